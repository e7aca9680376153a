"""Trends: any metric as a time series by week, month or term."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import periods
from services.reporting import statistics as st
from services.reporting.disclosure import Count, stat, suppress_column, suppress_one
from services.reporting.linked import ALL
from services.reporting.queries.base import (
    Query,
    d,
    day_cond,
    f,
    incident_cond,
    rolls,
)
from services.reporting.queries.pupil_rows import pupil_rollups
from services.reporting.queries.spans import chunks, interval_of
from services.reporting.queries.summary import meta, rolls_by_school
from services.reporting.queries.withheld import interval_pattern, pupils_withheld
from services.reporting.schemas_analysis import TrendPoint, TrendsReport
from shared.errors import ValidationFailed

ROLLUP: dict[str, sa.ColumnElement[Any]] = {
    "incidents": d.c.incidents,
    "restraint": sa.case((d.c.kind == "restraint", d.c.incidents), else_=0),
    "seclusion": sa.case((d.c.kind == "seclusion", d.c.incidents), else_=0),
    "other": sa.case((d.c.kind == "other", d.c.incidents), else_=0),
    "ground_restraint": d.c.ground_restraint,
    "pupil_injuries": d.c.pupil_injuries,
    "staff_injuries": d.c.staff_injuries,
    "late_records": d.c.late_records,
    "rate": d.c.incidents,
}
METRICS = (*ROLLUP, "pupils")


async def _pupils(
    conn: AsyncConnection, q: Query, cuts: list[tuple[str, date, date]]
) -> tuple[list[int], dict[tuple[str, int], int] | None]:
    """Distinct pupils per interval, counted in the database: whole months and years from
    the pupil rollups, every other day from one pass over the facts, each fact placed in
    its interval (the intervals run on from one another): one row per interval back. For
    aggregate audiences, over the trust's schools, with each school's per interval too."""
    by_school = q.threshold is not None
    scope = q
    if by_school:
        q = replace(q, schools=None, setting_type=None)
    place = (sa.literal("").label("school_urn"),)
    parts: list[Any] = [
        sa.select(sa.literal(-1).label("bucket"), *place, sa.literal("").label("pupil_id"))
    ]
    runs: list[tuple[date, date]] = []
    for n, (_, first, last) in enumerate(cuts):
        years, months, days = chunks(first, last)
        for part in pupil_rollups(q, years, months, ("pupil_id", "school_urn")):
            src = part.subquery()
            parts.append(sa.select(sa.literal(n), src.c.school_urn, src.c.pupil_id))
        for a, b in days:
            if runs and runs[-1][1] + timedelta(days=1) == a:
                runs[-1] = (runs[-1][0], b)
            else:
                runs.append((a, b))
    if runs:
        bucket = interval_of(conn.dialect.name, f.c.local_date, cuts)
        for a, b in runs:
            parts.append(
                sa.select(bucket, f.c.school_urn, f.c.pupil_id).where(incident_cond(q, a, b))
            )
    every = sa.union_all(*parts).subquery()
    if not by_school:
        # Each pupil once per interval (hashed), then counted: no sort for a distinct count.
        once = sa.select(every.c.bucket).group_by(every.c.bucket, every.c.pupil_id).subquery("once")
        rows = await conn.execute(sa.select(once.c.bucket, sa.func.count()).group_by(once.c.bucket))
        counted = {int(n): int(c) for n, c in rows if int(n) >= 0}
        return [counted.get(n, 0) for n in range(len(cuts))], None
    # Each pupil once per school and interval; counted per school, and over the answer's
    # schools once per interval.
    pairs = (
        sa.select(every.c.bucket, every.c.school_urn, every.c.pupil_id)
        .group_by(every.c.bucket, every.c.school_urn, every.c.pupil_id)
        .cte("pairs")
    )
    mine = scope.scope_urns_of(pairs.c.school_urn)
    once = (
        sa.select(pairs.c.bucket)
        .where(mine)
        .group_by(pairs.c.bucket, pairs.c.pupil_id)
        .subquery("once")
    )
    rows = await conn.execute(
        sa.union_all(
            sa.select(pairs.c.bucket, pairs.c.school_urn, sa.func.count()).group_by(
                pairs.c.bucket, pairs.c.school_urn
            ),
            sa.select(once.c.bucket, sa.literal(None), sa.func.count()).group_by(once.c.bucket),
        )
    )
    counted, per_school = {}, {}
    for n, urn, c in rows:
        if int(n) < 0:
            continue
        if urn is None:
            counted[int(n)] = int(c)
        else:
            per_school[(urn, int(n))] = int(c)
    return [counted.get(n, 0) for n in range(len(cuts))], per_school


def _what(metric: str) -> str:
    """A metric's cells in the pattern: incidents (and their rate), a kind, or a measure."""
    return ALL if metric in ("incidents", "rate") else metric


async def trends(conn: AsyncConnection, q: Query, metric: str, interval: str) -> TrendsReport:
    """The metric per interval over the period. For aggregate audiences, each interval as
    the period's one pattern withholds it (services.reporting.linked): a type's week, less
    its schools' weeks, or a week's incidents less its kinds, gives none back."""
    t = q.threshold
    whole_months = q.period.from_date.day == 1 and (q.period.to_date + timedelta(days=1)).day == 1
    if t is not None and (interval == "week" or (interval == "month" and not whole_months)):
        # Weeks cross months and terms, and a term's months cut at its ends cross the
        # year's: set against one another they would give back withheld counts. These
        # readers read the year's months (a term's when it runs over whole months) and
        # terms, each settled once.
        raise ValidationFailed(
            "Trends for this audience run by month or term.",
            errors=[
                {
                    "pointer": "#/query/interval",
                    "detail": "not available to aggregate-only readers: use term, or month "
                    "over an academic year or a term of whole months",
                }
            ],
        )
    cuts = periods.buckets(q.period, interval, q.term_dates)
    values: list[int] = []
    veiled: set[int] = set()
    if metric == "pupils":
        values, per_school = await _pupils(conn, q, cuts)
        if per_school is not None:
            veiled = await pupils_withheld(conn, q, cuts, per_school)
    elif t is not None and interval == "month" and q.period.kind != "academic_year":
        # A term's months, as the year's months are settled (once, for every answer).
        year = periods.academic_year_period(q.period.academic_year)
        months = periods.buckets(year, "month", q.term_dates)
        every, hidden = await interval_pattern(conn, q, months, _what(metric), column="Y")
        at = [
            i for i, (_, a, b) in enumerate(months) if q.period.from_date <= a <= q.period.to_date
        ]
        values = [every[i] for i in at]
        veiled = {n for n, i in enumerate(at) if i in hidden}
    elif t is not None:
        values, veiled = await interval_pattern(conn, q, cuts, _what(metric))
    else:
        value = sa.func.coalesce(sa.func.sum(ROLLUP[metric]), 0)
        rows = await conn.execute(
            sa.select(d.c.local_date, value).where(day_cond(q)).group_by(d.c.local_date)
        )
        per_day = {day: int(n) for day, n in rows}
        values = [
            sum(n for day, n in per_day.items() if first <= day <= last) for _, first, last in cuts
        ]
    if t is None:
        cells = suppress_column(values, t)
    else:
        cells = [
            Count(count=None, suppressed=True) if i in veiled else Count(count=n)
            for i, n in enumerate(values)
        ]
    points = []
    if metric == "rate":
        roll_total = sum(rolls_by_school(await rolls(conn, q)).values())
        roll_cell = suppress_one(roll_total, t)
        for (label, first, last), n, cell in zip(cuts, values, cells, strict=True):
            points.append(
                TrendPoint(
                    label=label,
                    from_date=first,
                    to_date=last,
                    rate=stat(st.rate_per_100(n, roll_total), cell, roll_cell),
                )
            )
    else:
        points = [
            TrendPoint(label=label, from_date=first, to_date=last, value=cell)
            for (label, first, last), cell in zip(cuts, cells, strict=True)
        ]
    return TrendsReport(**meta(q), metric=metric, interval=interval, points=points)  # type: ignore[arg-type]
