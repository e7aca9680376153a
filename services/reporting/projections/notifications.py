"""Parent-report events: one status row per report, right whatever order events arrive in."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting.projections.common import ensure_report, upsert
from services.reporting.rollups import REPORTS, touching
from shared.events.envelope import EventEnvelope
from shared.events.payloads import (
    ParentReportCompletedV1,
    ParentReportDeliveredV1,
    ParentReportEscalatedV1,
    ParentReportFailedV1,
    ParentReportHeldV1,
    ParentReportSentV1,
    ParentReportWithheldV1,
)

s = m.parent_report_status


def _earliest(col: sa.Column[Any], value: Any) -> Any:
    """Keep the earliest of the stored and the new time (events may come in any order)."""
    return sa.case((col.is_(None), value), (col > value, value), else_=col)


async def _row(conn: AsyncConnection, env: EventEnvelope, e: Any) -> sa.ColumnElement[bool]:
    cond = await ensure_report(conn, env.trust_id, e.report_id, e.incident_id, env.school_urn or "")
    occurred = getattr(e, "incident_occurred_at", None)
    if occurred is not None:
        await conn.execute(s.update().where(cond).values(incident_occurred_at=occurred))
    return cond


async def apply_sent(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A parent report that left for a parent."""
    e = ParentReportSentV1.model_validate(env.payload)
    async with touching(conn, env.trust_id, [e.incident_id], REPORTS):
        await upsert(
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
        cond = await _row(conn, env, e)
        await conn.execute(
            s.update().where(cond).values(first_sent_at=_earliest(s.c.first_sent_at, e.sent_at))
        )


async def apply_delivered(conn: AsyncConnection, env: EventEnvelope) -> None:
    """Delivery confirmed: keeps the first delivery time."""
    e = ParentReportDeliveredV1.model_validate(env.payload)
    async with touching(conn, env.trust_id, [e.incident_id], REPORTS):
        cond = await _row(conn, env, e)
        await conn.execute(
            s.update()
            .where(cond)
            .values(first_delivered_at=_earliest(s.c.first_delivered_at, e.delivered_at))
        )


async def apply_failed(conn: AsyncConnection, env: EventEnvelope) -> None:
    """A failed delivery attempt."""
    e = ParentReportFailedV1.model_validate(env.payload)
    async with touching(conn, env.trust_id, [e.incident_id], REPORTS):
        cond = await _row(conn, env, e)
        await conn.execute(s.update().where(cond).values(failures=s.c.failures + 1))


async def apply_escalated(conn: AsyncConnection, env: EventEnvelope) -> None:
    """Escalated to the school."""
    e = ParentReportEscalatedV1.model_validate(env.payload)
    async with touching(conn, env.trust_id, [e.incident_id], REPORTS):
        cond = await _row(conn, env, e)
        await conn.execute(s.update().where(cond).values(escalated=True))


async def apply_completed(conn: AsyncConnection, env: EventEnvelope) -> None:
    """The duty ended: the trust standard met or missed (the latest completion wins)."""
    e = ParentReportCompletedV1.model_validate(env.payload)
    async with touching(conn, env.trust_id, [e.incident_id], REPORTS):
        cond = await _row(conn, env, e)
        newer = sa.or_(s.c.completed_at.is_(None), s.c.completed_at <= e.completed_at)
        if e.standard in ("met", "missed"):
            # Withheld and not-required reports are not part of the same-day standard's share.
            await conn.execute(
                s.update()
                .where(cond & newer)
                .values(outcome=e.standard, completed_at=e.completed_at)
            )
        if e.first_sent_at is not None:
            await conn.execute(
                s.update()
                .where(cond)
                .values(first_sent_at=_earliest(s.c.first_sent_at, e.first_sent_at))
            )
        if e.standard == "withheld":
            await conn.execute(s.update().where(cond).values(withheld=True))


async def apply_held(conn: AsyncConnection, env: EventEnvelope) -> None:
    """Placed on hold for the DSL."""
    e = ParentReportHeldV1.model_validate(env.payload)
    async with touching(conn, env.trust_id, [e.incident_id], REPORTS):
        cond = await _row(conn, env, e)
        await conn.execute(s.update().where(cond).values(held=True))


async def apply_withheld(conn: AsyncConnection, env: EventEnvelope) -> None:
    """Withheld by the DSL."""
    e = ParentReportWithheldV1.model_validate(env.payload)
    async with touching(conn, env.trust_id, [e.incident_id], REPORTS):
        cond = await _row(conn, env, e)
        await conn.execute(s.update().where(cond).values(withheld=True))
