"""Projections: each event's effect on the read model (inbox-guarded by the caller).

An incident's fact row is replaced only by a newer revision, so a late or repeated
event never takes the model back in time.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from shared.auth.revocation import CLIENT_REVOKED, apply_client_revoked
from shared.bus.base import Handler
from shared.events.envelope import EventEnvelope
from shared.events.payloads import IncidentSubmittedV1, ParentReportSentV1, SchoolRegisteredV1
from shared.outbox.inbox import consume_once
from shared.runtime import ServiceContext

CONSUMER = "reporting"


async def _upsert(
    conn: AsyncConnection,
    table: sa.Table,
    key: dict[str, Any],
    values: dict[str, Any],
    newer: sa.ColumnElement[bool] | None = None,
) -> None:
    cond = sa.and_(*(table.c[k] == v for k, v in key.items()))
    exists = (await conn.execute(sa.select(*(table.c[k] for k in key)).where(cond))).first()
    if exists is None:
        await conn.execute(table.insert().values(**key, **values))
        return
    if newer is not None:
        cond = cond & newer
    await conn.execute(table.update().where(cond).values(**values))


async def apply_school_registered(conn: AsyncConnection, env: EventEnvelope) -> None:
    """Keep the school's name, setting type and time zone."""
    s = SchoolRegisteredV1.model_validate(env.payload).school
    await _upsert(
        conn,
        m.school,
        {"trust_id": env.trust_id, "urn": s.urn},
        {"name": s.name, "setting_type": s.setting_type, "timezone": s.timezone},
    )


async def apply_incident(conn: AsyncConnection, env: EventEnvelope) -> None:
    """The incident's latest revision, with the pupil's characteristics as at the incident."""
    e = IncidentSubmittedV1.model_validate(env.payload)
    f = m.incident_fact
    await _upsert(
        conn,
        f,
        {"trust_id": env.trust_id, "incident_id": e.incident.incident_id},
        {
            "revision": e.incident.revision,
            "school_urn": e.school.urn,
            "setting_type": e.school.setting_type,
            "pupil_id": e.pupil.pupil_id,
            "occurred_at": e.incident.occurred_at,
            "local_date": date.fromisoformat(e.incident.local_date),
            "intervention_type": e.incident.intervention_type,
            "significant": e.incident.significant,
            "historic": e.incident.historic,
            "recorded_at": e.incident.recorded_at,
            "sen_provision": e.pupil.sen_provision,
            "year_group": e.pupil.year_group,
            "gender": e.pupil.gender,
            "fsm_eligible": e.pupil.fsm_eligible,
            "ethnicity": e.pupil.ethnicity,
        },
        newer=f.c.revision < e.incident.revision,
    )
    await _upsert(
        conn,
        m.school,
        {"trust_id": env.trust_id, "urn": e.school.urn},
        {
            "name": e.school.name,
            "setting_type": e.school.setting_type,
            "timezone": e.school.timezone,
        },
    )


async def apply_parent_report_sent(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A parent report that left for a parent."""
    e = ParentReportSentV1.model_validate(env.payload)
    await _upsert(
        conn,
        m.parent_report_fact,
        {"trust_id": env.trust_id, "report_id": e.report_id},
        {
            "incident_id": e.incident_id,
            "school_urn": env.school_urn or "",
            "channel": e.channel,
            "sent_at": e.sent_at,
            "incident_occurred_at": e.incident_occurred_at,
        },
    )


async def apply_client_revoked_here(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A revoked client: the reporting API refuses its tokens from now on."""
    await apply_client_revoked(conn, env, m.revoked_client)


PROJECTIONS = {
    "school.registered.v1": apply_school_registered,
    "incident.submitted.v1": apply_incident,
    "parent_report.sent.v1": apply_parent_report_sent,
    CLIENT_REVOKED: apply_client_revoked_here,
}


def make_consumer(ctx: ServiceContext) -> Handler:
    """The reporting consumer: each event applied once, in its own transaction."""

    async def apply(conn: AsyncConnection, env: EventEnvelope) -> None:
        projection = PROJECTIONS.get(env.type)
        if projection is not None:
            await projection(conn, env)

    async def handle(envelope: EventEnvelope) -> bool:
        return await consume_once(ctx.db, m.inbox, CONSUMER, envelope, apply, ctx.clock)

    return handle
