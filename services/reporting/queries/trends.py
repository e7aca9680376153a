"""Trends: any metric as a time series by week, month or term."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import patterns, periods
from services.reporting import statistics as st
from services.reporting.disclosure import Count, stat, suppress_group, suppress_one
from services.reporting.patterns import KINDS
from services.reporting.queries.base import (
    Query,
    cut_counts,
    d,
    day_cond,
    f,
    incident_cond,
    pupil_rollups,
    rolls,
    schools_in_scope,
)
from services.reporting.queries.spans import chunks
from services.reporting.queries.summary import kind_cells, kinds_of, meta, rolls_by_school
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
# Metrics whose intervals (alone, or with the other kinds) add up to the incidents total.
INCIDENT_METRICS = ("incidents", "restraint", "seclusion", "other", "rate")


async def _pupils(conn: AsyncConnection, q: Query, cuts: list[tuple[str, date, date]]) -> list[int]:
    """Distinct pupils per interval, counted in the database: whole months and years from
    the pupil rollups, every other day from one pass over the facts, each fact placed in
    its interval (the intervals run on from one another): one row per interval back."""
    parts: list[Any] = [sa.select(sa.literal(-1).label("bucket"), sa.literal("").label("pupil_id"))]
    runs: list[tuple[date, date]] = []
    for n, (_, first, last) in enumerate(cuts):
        years, months, days = chunks(first, last)
        for part in pupil_rollups(q, years, months, ("pupil_id",)):
            src = part.subquery()
            parts.append(sa.select(sa.literal(n), src.c.pupil_id))
        for a, b in days:
            if runs and runs[-1][1] + timedelta(days=1) == a:
                runs[-1] = (runs[-1][0], b)
            else:
                runs.append((a, b))
    if runs:
        day = f.c.local_date
        if conn.dialect.name == "postgresql":
            # The interval is how many interval starts are on or before the day, less one.
            starts = sa.bindparam("starts", [c[1] for c in cuts], type_=pg.ARRAY(sa.Date))
            bucket: sa.ColumnElement[int] = sa.func.width_bucket(day, starts) - 1
        else:
            bucket = sa.case(*((day <= last, n) for n, (_, _, last) in enumerate(cuts)))
        for a, b in runs:
            parts.append(sa.select(bucket, f.c.pupil_id).where(incident_cond(q, a, b)))
    every = sa.union_all(*parts).subquery()
    # Each pupil once per interval (hashed), then counted: no sort for a distinct count.
    once = sa.select(every.c.bucket).group_by(every.c.bucket, every.c.pupil_id).subquery("once")
    rows = await conn.execute(sa.select(once.c.bucket, sa.func.count()).group_by(once.c.bucket))
    counted = {int(n): int(c) for n, c in rows if int(n) >= 0}
    return [counted.get(n, 0) for n in range(len(cuts))]


def _base(metric: str) -> str:
    """What a metric counts: incidents (and their rate), a kind, or a measure."""
    return "incidents" if metric == "rate" else metric


async def _settled(
    conn: AsyncConnection, q: Query, metric: str, cuts: list[tuple[str, date, date]]
) -> tuple[list[int], set[int]]:
    """For aggregate audiences: the metric per interval over the caller's schools, and the
    intervals withheld because they would give back a (school, interval) count withheld in
    every answer. The trust's schools' counts per interval are settled as one table (each
    school's intervals add up to its total for the period, withheld as every answer
    withholds it; each interval adds up over a setting type and over the trust), so that a
    type's week, less its schools' weeks, gives back none of them."""
    whole = replace(q, schools=None, setting_type=None)
    type_of = {s.urn: s.setting_type for s in await schools_in_scope(conn, whole)}
    counted = await cut_counts(conn, whole, cuts)
    what = _base(metric)
    cells = counted.cells(what)
    if what == "incidents":
        rows = q.hidden_schools
    elif what in KINDS:
        rows = frozenset(u for u in type_of if (u, what) in q.hidden_kinds)
    else:
        rows = q.measure_hidden.get(what, frozenset())
    columns = tuple(str(i) for i in range(len(cuts)))
    table = patterns.canonical_table(cells, columns, type_of, rows, q.threshold)
    scope = q.scope_urns(type_of)
    values, veiled = [], set()
    for i, c in enumerate(columns):
        keys = [(u, c) for u in scope]
        values.append(sum(cells.get(k, 0) for k in keys))
        if patterns.scope_veiled(keys, cells, table, q.threshold):
            veiled.add(i)
    return values, veiled


async def trends(conn: AsyncConnection, q: Query, metric: str, interval: str) -> TrendsReport:
    """The metric per interval over the period (counts suppressed as one column)."""
    cuts = periods.buckets(q.period, interval, q.term_dates)
    t = q.threshold
    values: list[int] = []
    veiled: set[int] = set()
    if metric == "pupils":
        values = await _pupils(conn, q, cuts)
    elif t is not None:
        values, veiled = await _settled(conn, q, metric, cuts)
    else:
        value = sa.func.coalesce(sa.func.sum(ROLLUP[metric]), 0)
        rows = await conn.execute(
            sa.select(d.c.local_date, value).where(day_cond(q)).group_by(d.c.local_date)
        )
        per_day = {day: int(n) for day, n in rows}
        values = [
            sum(n for day, n in per_day.items() if first <= day <= last) for _, first, last in cuts
        ]
    cells, _ = suppress_group(values, sum(values), t, hidden=veiled)
    withheld = (
        (q.veiled and metric in INCIDENT_METRICS)
        or metric in q.kinds_veiled
        or metric in q.measures_veiled
    )
    if t is not None and metric in KINDS and not withheld:
        # A kind the summary withholds here (beside another it protects) is withheld in
        # every interval too: one interval, or all of them, would add up to it.
        cells_by_kind, _ = kind_cells(q, await kinds_of(conn, q))
        withheld = cells_by_kind[KINDS.index(metric)].suppressed
    if withheld:
        # These schools' total (or this kind's) is withheld in every answer: so is each
        # interval that would add up to it (the kinds together add up to the total too).
        cells = [Count(count=None, suppressed=True) if n else Count(count=0) for n in values]
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
