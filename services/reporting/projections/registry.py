"""Registry events: schools, pupils, staff, rolls, training, trust settings, audit, vocabulary."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting.projections.common import claim_revision, upsert
from services.reporting.projections.incidents import staff_key
from services.reporting.rollups import DAY, lock_staff, staff_incidents, touching
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
    pid = e.pupil.pupil_id
    if not await claim_revision(conn, env.trust_id, "pupil", pid, env.subject_revision):
        return
    values = {
        "school_urn": e.school_urn,
        "sen_provision": e.pupil.sen_provision,
        "year_group": e.pupil.year_group,
        "gender": e.pupil.gender,
        "fsm_eligible": e.pupil.fsm_eligible,
        "fsm_ever6": e.fsm_ever6 if e.fsm_ever6 is not None else e.pupil.fsm_ever6,
        "ethnicity": e.pupil.ethnicity,
    }
    await upsert(conn, m.pupil, {"trust_id": env.trust_id, "pupil_id": pid}, values)


async def apply_staff_updated(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A member of staff of a school (every registered member of staff counts for coverage)."""
    e = StaffUpdatedV1.model_validate(env.payload)
    sid = staff_key(e.school_urn, e.staff_ref)
    if not await claim_revision(conn, env.trust_id, "staff", sid, env.subject_revision):
        return
    await upsert(
        conn,
        m.staff,
        {"trust_id": env.trust_id, "staff_id": sid},
        {"school_urn": e.school_urn, "requires_training": e.requires_training, "active": True},
    )


# The incidents registry names characteristics by field; reporting by dimension.
ROLL_DIMENSIONS = {
    "sen_provision": "sen",
    "fsm_eligible": "fsm",
    "fsm_ever6": "fsm_ever6",
    "gender": "gender",
    "ethnicity": "ethnicity",
    "year_group": "year_group",
}
YES = {"true", "yes", "y", "1"}
NO = {"false", "no", "n", "0"}


def roll_group(dimension: str, value: str) -> str:
    """A roll group as reporting names it (FSM as yes/no)."""
    if dimension in ("fsm", "fsm_ever6"):
        low = value.strip().lower()
        return "yes" if low in YES else "no" if low in NO else "unknown"
    return value


async def apply_roll_updated(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A school's roll for one academic year, replaced whole by a newer revision."""
    e = RollUpdatedV1.model_validate(env.payload)
    year = int(e.academic_year[:4])
    subject = f"{e.school_urn}:{year}"
    if not await claim_revision(conn, env.trust_id, "roll", subject, env.subject_revision):
        return
    r = m.roll
    await conn.execute(
        r.delete().where(
            (r.c.trust_id == env.trust_id)
            & (r.c.school_urn == e.school_urn)
            & (r.c.academic_year == year)
        )
    )
    cells: dict[tuple[str, str], int] = {("all", "all"): e.total}
    for name, counts in e.counts.items():
        dim = ROLL_DIMENSIONS.get(name)
        if dim is None:
            continue
        for value, count in counts.items():
            key = (dim, roll_group(dim, str(value))[:20])
            cells[key] = cells.get(key, 0) + int(count)
    await conn.execute(
        r.insert(),
        [
            {
                "trust_id": env.trust_id,
                "school_urn": e.school_urn,
                "academic_year": year,
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
    sid = staff_key(e.school_urn, e.staff_ref)
    training_id = str(
        uuid.uuid5(
            uuid.NAMESPACE_URL, f"candour:training:{sid}/{e.provider}/{e.course}/{e.completed_date}"
        )
    )
    if not await claim_revision(conn, env.trust_id, "training", training_id, 1):
        return
    # Training in date or not on an incident's day changes that incident's share. The
    # staff lock first: an incident of theirs being applied now is then seen.
    await lock_staff(conn, env.trust_id, [sid])
    async with touching(conn, env.trust_id, await staff_incidents(conn, env.trust_id, sid), DAY):
        await upsert(
            conn,
            m.training_record,
            {"trust_id": env.trust_id, "training_id": training_id},
            {
                "staff_id": sid,
                "school_urn": e.school_urn,
                "provider": e.provider,
                "completed_on": date.fromisoformat(e.completed_date),
                "expires_on": date.fromisoformat(e.expiry_date),
            },
        )


async def _trust_state(conn: AsyncConnection, trust_id: str, **values: object) -> None:
    await upsert(conn, m.trust_state, {"trust_id": trust_id}, values)


def term_dates(terms: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    """The trust's term dates as reporting keys them: academic year and term by start month."""
    if terms is None:
        return None
    out = []
    for t in terms:
        starts, ends = date.fromisoformat(str(t["starts"])), date.fromisoformat(str(t["ends"]))
        year = starts.year if starts.month >= 8 else starts.year - 1
        name = "autumn" if starts.month >= 8 else "spring" if starts.month <= 3 else "summer"
        out.append(
            {
                "academic_year": year,
                "term": name,
                "start_date": starts.isoformat(),
                "end_date": ends.isoformat(),
            }
        )
    return out


async def apply_settings_changed(conn: AsyncConnection, env: EventEnvelope) -> None:
    """The trust's suppression threshold and term dates (a school's overrides do not apply)."""
    e = TrustSettingsChangedV1.model_validate(env.payload)
    if e.school_urn is not None:
        return
    if not await claim_revision(conn, env.trust_id, "settings", "trust", env.subject_revision):
        return
    values: dict[str, Any] = {}
    if "suppression_threshold" in e.effective:
        values["suppression_threshold"] = e.effective["suppression_threshold"]
    if "terms" in e.effective:
        values["term_dates"] = term_dates(e.effective["terms"])
    if values:
        await _trust_state(conn, env.trust_id, **values)


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


# The incidents registry's audit answers, by the audit item reporting shows them under.
AUDIT_ITEMS = {
    "policy_in_place": "policy_in_place",
    "parents_told_how": "parents_told",
    "seclusion_named_as": "seclusion_named",
    "training_bought": "training_received",
    "data_reaches_governors": "data_to_governors",
    "post_incident_review": "post_incident_review",
}


def audit_answer(value: Any) -> str:
    """An answer as text: yes/no for booleans, lists joined."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)[:200]


async def apply_audit_recorded(conn: AsyncConnection, env: EventEnvelope) -> None:
    """The trust leads' latest answer to each audit item."""
    e = SchoolAuditRecordedV1.model_validate(env.payload)
    a = m.school_audit
    for key, value in e.answers.items():
        item = AUDIT_ITEMS.get(key)
        if item is None:
            continue
        await upsert(
            conn,
            a,
            {"trust_id": env.trust_id, "school_urn": e.school_urn, "item": item},
            {"answer": audit_answer(value), "recorded_at": e.recorded_at},
            newer=a.c.recorded_at < e.recorded_at,
        )
