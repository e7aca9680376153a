"""Material amendments: the parents who were (or are being) told are sent the update."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import ledger, reading, steps
from services.notifications import models as m
from shared.events.envelope import EventEnvelope
from shared.runtime import ServiceContext


async def apply_incident_amended(
    conn: AsyncConnection, envelope: EventEnvelope, ctx: ServiceContext
) -> list[str]:
    """A material amendment: the parents who were (or are being) told are sent the update.

    Read defensively: the amended record in the same sections as a submission, and
    ``material`` (top level or under ``amendment``). A non-material amendment only
    refreshes what a report not yet sent will say.
    """
    try:
        event = reading.submitted(envelope.payload)
    except ValueError:
        return []
    facts = event.incident
    r = m.parent_report
    rows = (
        await conn.execute(
            sa.select(r).where(
                (r.c.trust_id == envelope.trust_id)
                & (r.c.incident_id == facts.incident_id)
                & (r.c.kind == "parent")
                & (r.c.incident_revision < facts.revision)
            )
        )
    ).all()
    now = ctx.clock.now()
    touched = []
    for report in rows:
        report = await ledger.bump(
            conn,
            report,
            content=reading.content(event, envelope.payload),
            incident_revision=facts.revision,
        )
        material = reading.material(envelope.payload)
        await ledger.note(conn, report, now, "amended", revision=facts.revision, material=material)
        sent = report.sent_at is not None or report.told_at is not None
        if material and sent and report.status not in ("withheld", "not_required"):
            await steps.add_step(conn, report, f"amend:{facts.revision}", now)
            touched.append(report.report_id)
    return touched
