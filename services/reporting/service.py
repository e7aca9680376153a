"""Queries behind the reports (read model only)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting.disclosure import suppress_group, suppress_one
from services.reporting.schemas import IncidentCounts, Period, SchoolCount, TrustSummary
from shared.auth.principal import Principal

RESTRAINT = ("physical_restraint", "mechanical_restraint")
SECLUSION = ("seclusion",)


def _scope(table: sa.Table, principal: Principal) -> sa.ColumnElement[bool]:
    cond = table.c.trust_id == principal.trust_id
    if principal.schools is not None:
        cond = cond & table.c.school_urn.in_(sorted(principal.schools))
    return cond


async def trust_summary(
    conn: AsyncConnection,
    principal: Principal,
    threshold: int | None,
    from_date: date | None = None,
    to_date: date | None = None,
) -> TrustSummary:
    """Significant incidents by kind and by school, and parent reports sent."""
    f, s, r = m.incident_fact, m.school, m.parent_report_fact
    cond = _scope(f, principal) & f.c.significant
    if from_date:
        cond = cond & (f.c.local_date >= from_date)
    if to_date:
        cond = cond & (f.c.local_date <= to_date)
    kind = sa.case(
        (f.c.intervention_type.in_(RESTRAINT), "restraint"),
        (f.c.intervention_type.in_(SECLUSION), "seclusion"),
        else_="other",
    )
    by_kind: dict[str, int] = dict(
        (await conn.execute(sa.select(kind, sa.func.count()).where(cond).group_by(kind))).all()
    )
    total = sum(by_kind.values())
    (restraint, seclusion, other), total_cell = suppress_group(
        [by_kind.get("restraint", 0), by_kind.get("seclusion", 0), by_kind.get("other", 0)],
        total,
        threshold,
    )
    assert total_cell is not None
    school_scope = s.c.trust_id == principal.trust_id
    if principal.schools is not None:
        school_scope = school_scope & s.c.urn.in_(sorted(principal.schools))
    per_school: dict[str, int] = dict(
        (
            await conn.execute(
                sa.select(f.c.school_urn, sa.func.count()).where(cond).group_by(f.c.school_urn)
            )
        ).all()
    )
    schools = (await conn.execute(sa.select(s).where(school_scope).order_by(s.c.urn))).all()
    school_cells, _ = suppress_group([per_school.get(x.urn, 0) for x in schools], total, threshold)
    rcond = _scope(r, principal)
    if from_date or to_date:
        rcond = rcond & r.c.incident_id.in_(sa.select(f.c.incident_id).where(cond))
    sent = int(await conn.scalar(sa.select(sa.func.count()).select_from(r).where(rcond)) or 0)
    inbox = m.inbox
    last: datetime | None = await conn.scalar(
        sa.select(sa.func.max(inbox.c.processed_at)).where(inbox.c.trust_id == principal.trust_id)
    )
    return TrustSummary(
        trust_id=principal.trust_id,
        period=Period(from_date=from_date, to_date=to_date),
        data_as_of=last,
        suppression_threshold=threshold,
        incidents=IncidentCounts(
            total=total_cell, restraint=restraint, seclusion=seclusion, other=other
        ),
        schools=[
            SchoolCount(school_urn=x.urn, name=x.name, setting_type=x.setting_type, incidents=cell)
            for x, cell in zip(schools, school_cells, strict=True)
        ],
        parent_reports_sent=suppress_one(sent, threshold),
    )
