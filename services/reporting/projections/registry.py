"""Registry events: schools, pupils, staff, rolls, training, trust settings, audit, vocabulary."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting.projections.common import claim_revision, upsert
from shared.events.envelope import EventEnvelope
from shared.events.payloads import (
    PupilUpdatedV1,
    RollUpdatedV1,
    SchoolAuditRecordedV1,
    SchoolRegisteredV1,
    StaffUpdatedV1,
    TrainingRecordedV1,
    TrustSettingsChangedV1,
    VocabularyPublishedV1,
)


async def apply_school_registered(conn: AsyncConnection, env: EventEnvelope) -> None:
    """Keep the school's name, setting type and time zone (the latest event wins)."""
    s = SchoolRegisteredV1.model_validate(env.payload).school
    await upsert(
        conn,
        m.school,
        {"trust_id": env.trust_id, "urn": s.urn},
        {"name": s.name, "setting_type": s.setting_type, "timezone": s.timezone},
    )


async def apply_pupil_updated(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A pupil's latest characteristics (the reports use them where an incident left one
    unknown, joined at query time, so the order of events does not matter)."""
    e = PupilUpdatedV1.model_validate(env.payload)
    if not await claim_revision(conn, env.trust_id, "pupil", e.pupil_id, env.subject_revision):
        return
    values = e.model_dump(exclude={"pupil_id"})
    await upsert(conn, m.pupil, {"trust_id": env.trust_id, "pupil_id": e.pupil_id}, values)


async def apply_staff_updated(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A member of staff, by id."""
    e = StaffUpdatedV1.model_validate(env.payload)
    if not await claim_revision(conn, env.trust_id, "staff", e.staff_id, env.subject_revision):
        return
    await upsert(
        conn,
        m.staff,
        {"trust_id": env.trust_id, "staff_id": e.staff_id},
        {"school_urn": e.school_urn, "requires_training": e.requires_training, "active": e.active},
    )


async def apply_roll_updated(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A school's roll for one academic year, replaced whole by a newer revision."""
    e = RollUpdatedV1.model_validate(env.payload)
    subject = f"{e.school_urn}:{e.academic_year}"
    if not await claim_revision(conn, env.trust_id, "roll", subject, env.subject_revision):
        return
    r = m.roll
    await conn.execute(
        r.delete().where(
            (r.c.trust_id == env.trust_id)
            & (r.c.school_urn == e.school_urn)
            & (r.c.academic_year == e.academic_year)
        )
    )
    cells = {(c.dimension, c.group): c.count for c in e.cells}
    if cells:
        await conn.execute(
            r.insert(),
            [
                {
                    "trust_id": env.trust_id,
                    "school_urn": e.school_urn,
                    "academic_year": e.academic_year,
                    "dimension": dim,
                    "group": group,
                    "count": count,
                }
                for (dim, group), count in sorted(cells.items())
            ],
        )


async def apply_training_recorded(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A training certificate of a member of staff."""
    e = TrainingRecordedV1.model_validate(env.payload)
    if not await claim_revision(
        conn, env.trust_id, "training", e.training_id, env.subject_revision
    ):
        return
    await upsert(
        conn,
        m.training_record,
        {"trust_id": env.trust_id, "training_id": e.training_id},
        e.model_dump(exclude={"training_id"}),
    )


async def _trust_state(conn: AsyncConnection, trust_id: str, **values: object) -> None:
    await upsert(conn, m.trust_state, {"trust_id": trust_id}, values)


async def apply_settings_changed(conn: AsyncConnection, env: EventEnvelope) -> None:
    """The suppression threshold and term dates."""
    e = TrustSettingsChangedV1.model_validate(env.payload)
    if not await claim_revision(conn, env.trust_id, "settings", "trust", env.subject_revision):
        return
    await _trust_state(
        conn,
        env.trust_id,
        suppression_threshold=e.suppression_threshold,
        term_dates=[t.model_dump(mode="json") for t in e.term_dates],
    )


async def apply_vocabulary_published(conn: AsyncConnection, env: EventEnvelope) -> None:
    """The trust's current vocabulary version (the highest published)."""
    e = VocabularyPublishedV1.model_validate(env.payload)
    t = m.trust_state
    await upsert(
        conn,
        t,
        {"trust_id": env.trust_id},
        {"vocabulary_version": e.version},
        newer=sa.or_(t.c.vocabulary_version.is_(None), t.c.vocabulary_version < e.version),
    )


async def apply_audit_recorded(conn: AsyncConnection, env: EventEnvelope) -> None:
    """The trust leads' latest answer to each audit item."""
    e = SchoolAuditRecordedV1.model_validate(env.payload)
    a = m.school_audit
    for ans in e.answers:
        await upsert(
            conn,
            a,
            {"trust_id": env.trust_id, "school_urn": e.school_urn, "item": ans.item},
            {"answer": ans.answer, "recorded_at": e.recorded_at},
            newer=a.c.recorded_at < e.recorded_at,
        )
