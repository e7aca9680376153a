"""Incident events: the latest revision of each record, with what reporting compares."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting.projections.common import upsert
from services.reporting.rollups import DAY, lock_staff, touching
from shared.events.envelope import EventEnvelope
from shared.events.payloads import (
    IncidentAmendedV1,
    IncidentReviewedV1,
    IncidentSubmittedV1,
    PracticeFlaggedV1,
    RecordFacts,
)


def staff_key(school_urn: str, staff_ref: str) -> str:
    """Staff references are the school's own: a stable id qualified by school."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"candour:staff:{school_urn}/{staff_ref}"))


async def _school(conn: AsyncConnection, trust_id: str, e: IncidentSubmittedV1) -> None:
    await upsert(
        conn,
        m.school,
        {"trust_id": trust_id, "urn": e.school.urn},
        {
            "name": e.school.name,
            "setting_type": e.school.setting_type,
            "timezone": e.school.timezone,
        },
    )


async def _apply_revision(
    conn: AsyncConnection, env: EventEnvelope, e: IncidentSubmittedV1, voided: bool
) -> None:
    f = m.incident_fact
    facts, pupil = e.incident, e.pupil
    record = e.record or RecordFacts()
    ground = any((iv.position or "").startswith("ground") for iv in record.interventions)
    values: dict[str, Any] = {
        "revision": facts.revision,
        "school_urn": e.school.urn,
        "setting_type": e.school.setting_type,
        "pupil_id": pupil.pupil_id,
        "occurred_at": facts.occurred_at,
        "local_date": date.fromisoformat(facts.local_date),
        "intervention_type": facts.intervention_type,
        "intervention_label": facts.intervention_label[:120],
        "vocabulary_version": facts.vocabulary_version,
        "significant": facts.significant,
        "historic": facts.historic,
        "recorded_at": facts.recorded_at,
        "source": (facts.source_system or "direct")[:64],
        "sen_provision": pupil.sen_provision,
        "year_group": pupil.year_group,
        "gender": pupil.gender,
        "fsm_eligible": pupil.fsm_eligible,
        "fsm_ever6": pupil.fsm_ever6,
        "ethnicity": pupil.ethnicity,
        "pupil_injured": record.pupil_injured,
        "staff_injuries": record.staff_injury_count,
        "ground_restraint": ground,
        "voided": voided,
        "recorded_late": facts.recorded_at.astimezone(ZoneInfo(e.school.timezone)).date()
        > date.fromisoformat(facts.local_date) + timedelta(days=1),
    }
    key = {"trust_id": env.trust_id, "incident_id": facts.incident_id}
    staff = sorted({staff_key(e.school.urn, ref) for ref in record.staff_refs})
    await lock_staff(conn, env.trust_id, staff)
    async with touching(conn, env.trust_id, [facts.incident_id]):
        written = await upsert(conn, f, key, values, newer=f.c.revision < facts.revision)
        if written:
            s = m.incident_staff
            await conn.execute(
                s.delete().where(
                    (s.c.trust_id == env.trust_id) & (s.c.incident_id == facts.incident_id)
                )
            )
            for staff_id in staff:
                await conn.execute(s.insert().values(**key, staff_id=staff_id))
    await _school(conn, env.trust_id, e)


async def apply_incident(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A submitted incident, unless a later revision is already applied."""
    await _apply_revision(conn, env, IncidentSubmittedV1.model_validate(env.payload), False)


async def apply_amended(conn: AsyncConnection, env: EventEnvelope) -> None:
    """An amendment replaces every earlier revision (a voided record stops counting)."""
    a = IncidentAmendedV1.model_validate(env.payload)
    await _apply_revision(conn, env, a, a.amendment.voided)


async def apply_reviewed(conn: AsyncConnection, env: EventEnvelope) -> None:
    """The first post-incident review of an incident."""
    e = IncidentReviewedV1.model_validate(env.payload)
    r = m.incident_review
    async with touching(conn, env.trust_id, [e.incident_id], DAY):
        await upsert(
            conn,
            r,
            {"trust_id": env.trust_id, "incident_id": e.incident_id},
            {
                "reviewed_at": e.reviewed_at,
                "plan_changed": e.support_plan_changed or e.handling_plan_changed,
            },
            newer=r.c.reviewed_at > e.reviewed_at,
        )


async def apply_flagged(conn: AsyncConnection, env: EventEnvelope) -> None:
    """Prohibited or unsafe practices the rules found on an incident, one row per rule."""
    e = PracticeFlaggedV1.model_validate(env.payload)
    async with touching(conn, env.trust_id, [e.incident_id], DAY):
        for flag in e.flags:
            await upsert(
                conn,
                m.practice_flag,
                {
                    "trust_id": env.trust_id,
                    "incident_id": e.incident_id,
                    "practice": flag.code[:60],
                },
                {"flagged_at": env.occurred_at},
                newer=m.practice_flag.c.flagged_at > env.occurred_at,
            )
