"""Trends: any metric as a time series by week, month or term."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import periods
from services.reporting import statistics as st
from services.reporting.disclosure import stat, suppress_column, suppress_one
from services.reporting.queries.base import Query, d, day_cond, pupil_source, rolls
from services.reporting.queries.summary import meta, rolls_by_school
from services.reporting.schemas_analysis import TrendPoint, TrendsReport

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


async def trends(conn: AsyncConnection, q: Query, metric: str, interval: str) -> TrendsReport:
    """The metric per interval over the period (counts suppressed as one column)."""
    cuts = periods.buckets(q.period, interval, q.term_dates)
    per_day: dict[date, int] = {}
    values: list[int] = []
    if metric == "pupils":
        # Distinct pupils per interval, counted in the database from the pupil rollups
        # (whole months and years) and the facts (other days): one row per interval back.
        parts = [sa.select(sa.literal(-1).label("bucket"), sa.literal("").label("pupil_id"))]
        for n, (_, first, last) in enumerate(cuts):
            src = pupil_source(q, first, last).subquery()
            parts.append(sa.select(sa.literal(n).label("bucket"), src.c.pupil_id))
        every = sa.union_all(*parts).subquery()
        rows = await conn.execute(
            sa.select(every.c.bucket, sa.func.count(sa.distinct(every.c.pupil_id))).group_by(
                every.c.bucket
            )
        )
        counted = {int(n): int(c) for n, c in rows if int(n) >= 0}
        values = [counted.get(n, 0) for n in range(len(cuts))]
    else:
        value = sa.func.coalesce(sa.func.sum(ROLLUP[metric]), 0)
        rows = await conn.execute(
            sa.select(d.c.local_date, value).where(day_cond(q)).group_by(d.c.local_date)
        )
        per_day = {day: int(n) for day, n in rows}
        values = [
            sum(n for day, n in per_day.items() if first <= day <= last) for _, first, last in cuts
        ]
    t = q.threshold
    cells = suppress_column(values, t)
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
