"""The trust summary: incidents by kind, pupils, concentration, rates, change."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import patterns
from services.reporting import statistics as st
from services.reporting.disclosure import (
    Count,
    share_of,
    small,
    stat,
    suppress_one,
)
from services.reporting.periods import Period
from services.reporting.queries.base import (
    Query,
    incident_rows,
    r,
    report_cond,
    rolls,
    schools_in_scope,
)
from services.reporting.queries.pupil_rows import pupil_source
from services.reporting.queries.withheld import (
    PUPILS,
    SENT,
    pupils_pattern,
    with_disclosure,
)
from services.reporting.schemas import (
    Change,
    IncidentCounts,
    Rates,
    SchoolCount,
    TrustSummary,
)
from services.reporting.schemas import Period as PeriodOut


def period_out(p: Period) -> PeriodOut:
    """The API view of a period."""
    return PeriodOut(from_date=p.from_date, to_date=p.to_date, label=p.label, kind=p.kind)


def meta(q: Query) -> dict[str, object]:
    """The fields every report states."""
    return {
        "trust_id": q.trust_id,
        "period": period_out(q.period),
        "vocabulary_version": q.vocabulary_version,
        "data_as_of": q.data_as_of,
        "suppression_threshold": q.threshold,
        "setting_type": q.setting_type,
        "school_urn": next(iter(q.schools)) if q.schools and len(q.schools) == 1 else None,
    }


def like_for_like(q: Query) -> Period:
    """The previous period: whole, for a period that has ended; else cut to as many days as
    have passed of this one (so a year or term in progress is compared with the same weeks
    before; one not yet begun, with the previous one's first day)."""
    prev = q.period.previous(q.term_dates)
    if q.today > q.period.to_date:
        return prev
    elapsed = max(0, (q.as_at - q.period.from_date).days)
    last = min(prev.to_date, prev.from_date + timedelta(days=elapsed))
    return replace(prev, to_date=last)


def running(q: Query) -> bool:
    """Whether the period has not ended (its comparison window is cut to the days so far)."""
    return q.today <= q.period.to_date


async def count_incidents(
    conn: AsyncConnection, q: Query, first: date | None = None, last: date | None = None
) -> int:
    """Significant incidents in scope between two dates (default: the period)."""
    x = incident_rows(q, first, last).c
    return int(await conn.scalar(sa.select(sa.func.sum(x.incidents))) or 0)


def kind_cells(q: Query, by_kind: dict[str, int]) -> tuple[list[Count], Count]:
    """The kinds and the total of the caller's schools as every answer shows them: for
    aggregate audiences, as the period's pattern has them (services.reporting.linked)."""
    total = sum(by_kind.values())
    kinds = [by_kind.get(k, 0) for k in patterns.KINDS]
    if q.threshold is None:
        return [Count(count=n) for n in kinds], Count(count=total)

    def cell(n: int, withheld: bool) -> Count:
        return Count(count=None, suppressed=True) if withheld else Count(count=n)

    return (
        [cell(n, q.veils(k)) for n, k in zip(kinds, patterns.KINDS, strict=True)],
        cell(total, q.veiled),
    )


async def kinds_of(conn: AsyncConnection, q: Query) -> dict[str, int]:
    """Significant incidents of the caller's schools in the period, by kind."""
    x = incident_rows(q).c
    rows = await conn.execute(sa.select(x.kind, sa.func.sum(x.incidents)).group_by(x.kind))
    return {kind: int(n) for kind, n in rows}


async def trust_summary(conn: AsyncConnection, q: Query) -> TrustSummary:
    """Headline numbers for the caller's schools in the period."""
    t = q.threshold
    x = incident_rows(q).c
    by_kind: dict[str, int] = {}
    per_school: dict[str, int] = {}
    for urn, kind, n in await conn.execute(
        sa.select(x.school_urn, x.kind, sa.func.sum(x.incidents)).group_by(x.school_urn, x.kind)
    ):
        by_kind[kind] = by_kind.get(kind, 0) + int(n)
        per_school[urn] = per_school.get(urn, 0) + int(n)
    total = sum(by_kind.values())
    (restraint, seclusion, other), total_cell = kind_cells(q, by_kind)
    schools = await schools_in_scope(conn, q)
    school_cells = (
        patterns.school_cells([s.urn for s in schools], per_school, q.hidden_schools)
        if t is not None
        else [Count(count=per_school.get(s.urn, 0)) for s in schools]
    )
    pupils_with, per_school_pupils = await pupil_counts(conn, q)
    distinct = sum(pupils_with.values())
    pupils = suppress_one(distinct, t)
    if per_school_pupils is not None and distinct:
        type_of = {s.urn: s.setting_type for s in await schools_in_scope(conn, whole_of(q))}
        if (q.row, q.column, PUPILS) in pupils_pattern(q, type_of, per_school_pupils):
            # As every answer of the period withholds them (a type's less its schools').
            pupils = Count(count=None, suppressed=True)
    _, top, _ = st.top_share_of(pupils_with)
    top_share = share_of(top, total, t)
    if pupils.suppressed or total_cell.suppressed:
        top_share = stat(None, pupils, total_cell)
    roll_total = sum(rolls_by_school(await rolls(conn, q)).values())
    roll = suppress_one(roll_total, t)

    def rate(n: int, cell: Count) -> object:
        return stat(st.rate_per_100(n, roll_total), cell, roll)

    prev = like_for_like(q)
    prev_count = await count_incidents(conn, q, prev.from_date, prev.to_date)
    prev_cell = suppress_one(prev_count, t)
    if t is not None and prev_count and running(q):
        # A window cut to the days so far is a date range, one day longer each day: set
        # against the previous period's own answers it would give back a day's counts.
        prev_cell = Count(count=None, suppressed=True)
    elif t is not None and (await with_disclosure(conn, q.with_period(prev))).veiled:
        prev_cell = Count(count=None, suppressed=True)  # as that period's own answer has it
    # A change of 1 to the threshold is withheld too: it reveals nothing the two counts do
    # not, but no count in that band reaches a governor.
    hidden = prev_cell.suppressed or total_cell.suppressed or small(abs(total - prev_count), t)
    change = Count(count=None, suppressed=True) if hidden else Count(count=total - prev_count)
    change_share = stat(
        round((total - prev_count) / prev_count, 4) if prev_count else None, prev_cell, total_cell
    )
    sent = int(await conn.scalar(sa.select(sa.func.sum(r.c.sent)).where(report_cond(q))) or 0)
    return TrustSummary(
        **meta(q),  # type: ignore[arg-type]
        incidents=IncidentCounts(
            total=total_cell, restraint=restraint, seclusion=seclusion, other=other
        ),
        pupils=pupils,
        top_decile_share=top_share,
        roll=roll,
        rates=Rates(
            incidents=rate(total, total_cell),  # type: ignore[arg-type]
            restraint=rate(by_kind.get("restraint", 0), restraint),  # type: ignore[arg-type]
            seclusion=rate(by_kind.get("seclusion", 0), seclusion),  # type: ignore[arg-type]
            other=rate(by_kind.get("other", 0), other),  # type: ignore[arg-type]
            pupils=rate(distinct, pupils),  # type: ignore[arg-type]
        ),
        previous=Change(
            period=period_out(prev), incidents=prev_cell, change=change, change_share=change_share
        ),
        schools=[
            SchoolCount(school_urn=s.urn, name=s.name, setting_type=s.setting_type, incidents=cell)
            for s, cell in zip(schools, school_cells, strict=True)
        ],
        # One report per incident, often: withheld with the total it would give back.
        parent_reports_sent=Count(count=None, suppressed=True)
        if (q.veiled or q.veils(SENT)) and sent
        else suppress_one(sent, t),
    )


def whole_of(q: Query) -> Query:
    """The same request over every school of the trust."""
    return replace(q, schools=None, setting_type=None)


async def pupil_counts(
    conn: AsyncConnection, q: Query
) -> tuple[dict[int, int], dict[str, int] | None]:
    """How many pupils had each number of incidents (a few rows back, whatever the roll);
    and for aggregate audiences, each school's distinct pupils, from the same pass over
    the trust's rows."""
    if q.threshold is None:
        src = pupil_source(q, columns=("pupil_id",)).subquery()
        per = (
            sa.select(sa.func.sum(src.c.incidents).label("n"))
            .group_by(src.c.pupil_id)
            .subquery("per_pupil")
        )
        rows = await conn.execute(sa.select(per.c.n, sa.func.count()).group_by(per.c.n))
        return {int(n): int(k) for n, k in rows}, None
    every = pupil_source(whole_of(q), columns=("pupil_id", "school_urn", "setting_type"))
    everyone = every.subquery()
    pairs = (
        sa.select(
            everyone.c.school_urn,
            everyone.c.setting_type,
            everyone.c.pupil_id,
            sa.func.sum(everyone.c.incidents).label("n"),
        )
        .group_by(everyone.c.school_urn, everyone.c.setting_type, everyone.c.pupil_id)
        .cte("per")
    )
    mine: sa.ColumnElement[bool] = (
        sa.true() if q.schools is None else pairs.c.school_urn.in_(sorted(q.schools))
    )
    if q.setting_type:
        mine = mine & (pairs.c.setting_type == q.setting_type)
    scoped = (
        sa.select(sa.func.sum(pairs.c.n).label("n"))
        .where(mine)
        .group_by(pairs.c.pupil_id)
        .subquery()
    )
    rows = await conn.execute(
        sa.union_all(
            sa.select(sa.literal("s"), pairs.c.school_urn, sa.func.count()).group_by(
                pairs.c.school_urn
            ),
            sa.select(sa.literal("n"), sa.cast(scoped.c.n, sa.String), sa.func.count()).group_by(
                scoped.c.n
            ),
        )
    )
    pupils_with: dict[int, int] = {}
    schools: dict[str, int] = {}
    for what, key, k in rows:
        if what == "s":
            schools[key] = int(k)
        else:
            pupils_with[int(key)] = int(k)
    return pupils_with, schools


def rolls_by_school(cells: dict[tuple[str, str], int]) -> dict[str, int]:
    """Sum roll cells per school."""
    out: dict[str, int] = {}
    for (urn, _), n in cells.items():
        out[urn] = out.get(urn, 0) + n
    return out
