"""Minutes from incident to a parent report's first delivery: exact percentiles per school.

A school's delivered reports in the period are counted per 15-minute bin: whole months from
the ``report_minutes`` rollup, whole weeks of the days left over from
``report_minutes_week``, and the few days left after those from the reports themselves (by
their incident's date). Each percentile's two neighbouring ranks (type 7) fall in known bins, and
only those bins' reports are read, in order: the answer is the same as sorting every
report's minutes, without reading them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting import statistics as st
from services.reporting.queries.base import Query
from services.reporting.queries.spans import whole_months, whole_weeks

s = m.parent_report_status
h, hw = m.report_minutes, m.report_minutes_week


async def histogram(
    conn: AsyncConnection, q: Query, urns: Sequence[str]
) -> dict[str, dict[int, int]]:
    """Delivered reports per school and bin, for the period's counted incidents."""
    months, runs = whole_months(q.period.from_date, q.period.to_date)
    weeks, days = whole_weeks(runs)
    parts: list[sa.Select[Any]] = []
    # The whole months of one period are consecutive; so are the weeks of each run.
    for table, unit, first, last in [
        *([(h, "month", months[0], months[-1])] if months else []),
        *((hw, "week", a, b) for a, b in weeks),
    ]:
        parts.append(
            sa.select(table.c.school_urn, table.c.bin, sa.func.sum(table.c.reports).label("n"))
            .where(
                (table.c.trust_id == q.trust_id)
                & (table.c[unit] >= first)
                & (table.c[unit] <= last)
                & table.c.school_urn.in_(urns)
            )
            .group_by(table.c.school_urn, table.c.bin)
        )
    for a, b in days:
        parts.append(
            sa.select(s.c.school_urn, s.c.delivery_bin.label("bin"), sa.func.count().label("n"))
            .where(
                (s.c.trust_id == q.trust_id)
                & (s.c.local_date >= a)
                & (s.c.local_date <= b)
                & s.c.school_urn.in_(urns)
                & s.c.delivery_bin.is_not(None)
            )
            .group_by(s.c.school_urn, s.c.delivery_bin)
        )
    out: dict[str, dict[int, int]] = {}
    if not parts:
        return out
    stmt: sa.Select[Any] = parts[0]
    if len(parts) > 1:
        # One row per school and bin back, however many parts the period has.
        every = sa.union_all(*parts).subquery()
        stmt = sa.select(every.c.school_urn, every.c.bin, sa.func.sum(every.c.n)).group_by(
            every.c.school_urn, every.c.bin
        )
    for urn, b, n in await conn.execute(stmt):
        out.setdefault(urn, {})[int(b)] = int(n)
    return out


def _locate(bins: dict[int, int], ranks: set[int]) -> dict[int, tuple[int, int]]:
    """Each rank's (bin, position within the bin), counting from the lowest bin."""
    out: dict[int, tuple[int, int]] = {}
    below = 0
    for b in sorted(bins):
        for rank in ranks:
            if below <= rank < below + bins[b]:
                out[rank] = (b, rank - below)
        below += bins[b]
    return out


async def percentiles(
    conn: AsyncConnection, q: Query, urns: Sequence[str], qs: Sequence[float] = (0.5, 0.9)
) -> dict[str, list[float | None]]:
    """Per school, each quantile of minutes to first delivery (type 7, to 4 places)."""
    counts = await histogram(conn, q, sorted(urns))
    wanted: dict[str, dict[int, tuple[int, int]]] = {}
    for urn, bins in counts.items():
        n = sum(bins.values())
        ranks = {r for p in qs for r in st.quantile_ranks(n, p)[:2]}
        wanted[urn] = _locate(bins, ranks)
    found = await _values(conn, q, wanted)
    out: dict[str, list[float | None]] = {}
    for urn, bins in counts.items():
        n = sum(bins.values())
        value: list[float | None] = []
        for p in qs:
            below, above, fraction = st.quantile_ranks(n, p)
            value.append(st.interpolate(found[(urn, below)], found[(urn, above)], fraction))
        out[urn] = value
    return out


async def _values(
    conn: AsyncConnection, q: Query, wanted: dict[str, dict[int, tuple[int, int]]]
) -> dict[tuple[str, int], float]:
    """The minutes at each wanted (school, rank), read from the rank's bin alone."""
    cond = (
        (s.c.trust_id == q.trust_id)
        & (s.c.local_date >= q.period.from_date)
        & (s.c.local_date <= q.period.to_date)
    )
    out: dict[tuple[str, int], float] = {}
    if not wanted:
        return out
    if conn.dialect.name == "postgresql":
        # Each rank's place in its bin, read from the index in order: one row per rank.
        rows_ = [(urn, r, b, i) for urn, at in sorted(wanted.items()) for r, (b, i) in at.items()]

        def array(k: int, name: str, kind: Any) -> sa.BindParameter[Any]:
            return sa.bindparam(name, [row[k] for row in rows_], type_=pg.ARRAY(kind))

        # Four arrays, not a VALUES list: one statement, compiled once, whatever the count.
        w = (
            sa.func.unnest(
                array(0, "urns", sa.String),
                array(1, "ranks", sa.Integer),
                array(2, "bins", sa.Integer),
                array(3, "places", sa.Integer),
            )
            .table_valued("urn", "rank", "bin", "place")
            .render_derived(name="wanted")
        )
        one = (
            sa.select(s.c.delivery_minutes)
            .where(cond & (s.c.school_urn == w.c.urn) & (s.c.delivery_bin == w.c.bin))
            .order_by(s.c.delivery_minutes)
            .offset(w.c.place)
            .limit(1)
            .lateral("one")
        )
        rows = await conn.execute(
            sa.select(w.c.urn, w.c.rank, one.c.delivery_minutes).select_from(w.join(one, sa.true()))
        )
        return {(urn, int(r)): float(x) for urn, r, x in rows}
    # Elsewhere (SQLite): the wanted bins' reports, placed in order here.
    pairs = sorted({(urn, b) for urn, at in wanted.items() for b, _ in at.values()})
    in_bin: dict[tuple[str, int], list[float]] = {}
    for urn, b, x in await conn.execute(
        sa.select(s.c.school_urn, s.c.delivery_bin, s.c.delivery_minutes).where(
            cond & sa.tuple_(s.c.school_urn, s.c.delivery_bin).in_(pairs)
        )
    ):
        in_bin.setdefault((urn, int(b)), []).append(float(x))
    for v in in_bin.values():
        v.sort()
    for urn, at in wanted.items():
        for r, (b, i) in at.items():
            out[(urn, r)] = in_bin[(urn, b)][i]
    return out
