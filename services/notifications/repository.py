"""Every query of the notifications API; each starts from the caller's trust and schools."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import models as m
from shared.auth.principal import Principal


def scoped(table: sa.Table, principal: Principal) -> sa.ColumnElement[bool]:
    """The caller's trust and, unless it has them all, its schools."""
    cond = table.c.trust_id == principal.trust_id
    if principal.schools is not None:
        cond = cond & table.c.school_urn.in_(sorted(principal.schools))
    return cond


async def reports_for_incident(
    conn: AsyncConnection, principal: Principal, incident_id: str
) -> tuple[list[sa.Row], list[sa.Row]]:
    """The incident's parent reports within scope, and their messages."""
    r, msg = m.parent_report, m.message
    reports = (
        await conn.execute(
            sa.select(r)
            .where(scoped(r, principal) & (r.c.incident_id == incident_id))
            .order_by(r.c.created_at, r.c.report_id)
        )
    ).all()
    if not reports:
        return [], []
    messages = (
        await conn.execute(
            sa.select(msg)
            .where(
                (msg.c.trust_id == principal.trust_id)
                & msg.c.report_id.in_([x.report_id for x in reports])
            )
            .order_by(msg.c.created_at, msg.c.message_id)
        )
    ).all()
    return list(reports), list(messages)
