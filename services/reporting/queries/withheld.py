"""The cells every answer of a period withholds from aggregate audiences, whatever its
scope: per school, for incidents, each kind and each measure, settled over the trust's
setting types and the trust, and over the academic year's terms (a year's total less its
terms' shown is no way back to a withheld term), before any answer is built. Within an
answer, :mod:`services.reporting.disclosure` does the rest."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import linked, periods
from services.reporting.linked import ALL
from services.reporting.patterns import KINDS
from services.reporting.queries.base import (
    Query,
    d,
    day_cond,
    incident_rows,
    r,
    report_cond,
    schools_in_scope,
)
from services.reporting.queries.spans import interval_of

# Per-school measures besides incidents that some answer publishes a total of (a trend's
# intervals add up to it), each withheld by one pattern per period like incidents.
MEASURES = ("ground_restraint", "pupil_injuries", "staff_injuries", "late_records", "flagged")
SENT = "sent"  # parent reports sent (the parent-report rollup)


@dataclass(frozen=True)
class CutCounts:
    """Per school and interval (by index): incidents by kind, and each measure."""

    kinds: dict[tuple[str, int, str], int]
    measures: dict[str, dict[tuple[str, int], int]]

    def cells(self, what: str, keep: list[int] | None = None) -> dict[tuple[str, str], int]:
        """(school, interval index as text) -> count, for incidents, a kind or a measure."""
        out: dict[tuple[str, str], int] = {}
        if what in self.measures:
            items = [(u, i, n) for (u, i), n in self.measures[what].items()]
        else:
            items = [(u, i, n) for (u, i, k), n in self.kinds.items() if what in ("incidents", k)]
        for u, i, n in items:
            if keep is None or i in keep:
                out[(u, str(i))] = out.get((u, str(i)), 0) + n
        return out


async def cut_counts(
    conn: AsyncConnection, q: Query, cuts: list[tuple[str, date, date]], sent: bool = False
) -> CutCounts:
    """Per school and interval of ``cuts`` (the caller's schools): incidents by kind, each
    measure and (``sent``) parent reports sent, in one statement each."""
    parts: list[sa.Select[Any]] = []
    if len(cuts) > 8:
        # Many intervals (weeks): one pass over the days, each placed in its interval.
        bucket = interval_of(conn.dialect.name, d.c.local_date, cuts)
        parts.append(
            sa.select(
                bucket.label("bucket"),
                d.c.school_urn,
                d.c.kind,
                sa.func.sum(d.c.incidents),
                *(sa.func.sum(d.c[c]) for c in MEASURES),
            )
            .where(day_cond(q, cuts[0][1], cuts[-1][2]))
            .group_by(bucket, d.c.school_urn, d.c.kind)
        )
    for i, (_, first, last) in enumerate(cuts if not parts else []):
        x = incident_rows(q, first, last).c
        parts.append(
            sa.select(
                sa.literal(i).label("bucket"),
                x.school_urn,
                x.kind,
                sa.func.sum(x.incidents),
                *(sa.func.sum(x[c]) for c in MEASURES),
            ).group_by(x.school_urn, x.kind)
        )
    kinds: dict[tuple[str, int, str], int] = {}
    measures: dict[str, dict[tuple[str, int], int]] = {c: {} for c in (*MEASURES, SENT)}
    if parts:
        statement: sa.Executable = parts[0] if len(parts) == 1 else sa.union_all(*parts)
        for at, urn, kind, n, *rest in await conn.execute(statement):
            key = (urn, int(at))
            kinds[(urn, int(at), kind)] = kinds.get((urn, int(at), kind), 0) + int(n)
            for c, v in zip(MEASURES, rest, strict=True):
                measures[c][key] = measures[c].get(key, 0) + int(v or 0)
    if sent and cuts:
        whens = [(r.c.local_date.between(a, b), i) for i, (_, a, b) in enumerate(cuts)]
        bucket = sa.case(*whens, else_=-1)
        cond = report_cond(q, cuts[0][1], cuts[-1][2])
        for b, urn, n in await conn.execute(
            sa.select(bucket, r.c.school_urn, sa.func.sum(r.c.sent))
            .where(cond)
            .group_by(bucket, r.c.school_urn)
        ):
            if int(b) >= 0:
                measures[SENT][(urn, int(b))] = int(n or 0)
    return CutCounts(kinds, measures)


def lattice(q: Query) -> tuple[list[tuple[str, date, date]], int | None]:
    """The academic year's terms (and the holidays between them) and which of them the
    period is (None: the whole year), when the period is the year or one of them: the
    cells every answer of the year and of its terms is settled over together. Else the
    period alone, as its one cut (index 0)."""
    year = periods.academic_year_period(q.period.academic_year)
    terms = periods.buckets(year, "term", q.term_dates)
    here = (q.period.from_date, q.period.to_date)
    if here == (year.from_date, year.to_date):
        return terms, None
    for i, (_, first, last) in enumerate(terms):
        if here == (first, last):
            return terms, i
    return [(q.period.label, q.period.from_date, q.period.to_date)], 0


def runs(
    terms: list[tuple[str, date, date]], cuts: list[tuple[str, date, date]]
) -> list[tuple[list[int], list[int]]]:
    """Where a period's intervals (``cuts``) and the year's terms share boundaries: the
    shortest runs of terms each covered exactly by a run of intervals, as (term indexes,
    interval indexes). The intervals of each run add up to its terms' counts."""
    starts = {c[1] for c in cuts}
    ends = {c[2] for c in cuts}
    out: list[tuple[list[int], list[int]]] = []
    begun: int | None = None
    for i, (_, first, last) in enumerate(terms):
        if begun is None:
            if first not in starts:
                continue
            begun = i
        if last in ends:
            a, b = terms[begun][1], last
            inside = [j for j, c in enumerate(cuts) if a <= c[1] and c[2] <= b]
            out.append((list(range(begun, i + 1)), inside))
            begun = None
    return out


def rows_of(q: Query, type_of: dict[str, str]) -> dict[str, list[str]]:
    """The published totals over schools, for the pattern: each setting type and the
    trust; and for a caller who sees some schools only, those schools (of each type)."""
    types = sorted(set(type_of.values()))
    rows: dict[str, list[str]] = {}
    for kind in types:
        rows[f"*:{kind}"] = [u for u in sorted(type_of) if type_of[u] == kind]
    rows["*"] = [f"*:{kind}" for kind in types]
    if q.visible is not None:
        mine = sorted(u for u in type_of if u in q.visible)
        kinds = sorted({type_of[u] for u in mine})
        for kind in kinds:
            rows[f"~:{kind}"] = [u for u in mine if type_of[u] == kind]
        rows["~"] = [f"~:{kind}" for kind in kinds]
    return rows


def pattern(
    counted: CutCounts,
    type_of: dict[str, str],
    rows: dict[str, list[str]],
    columns: list[str],
    t: int,
    total: str | None = None,
    runs_: dict[str, list[str]] | None = None,
    fixed: dict[linked.Cell, bool] | None = None,
    measures: tuple[str, ...] = (*MEASURES, SENT),
    name: dict[int, str] | None = None,
    with_kinds: bool = True,
) -> set[linked.Cell]:
    """Every withheld cell over ``columns`` (interval indexes as text, or renamed by
    ``name``): incidents with their kinds as one table, each measure as its own."""
    schools = sorted(type_of)

    def col(i: int) -> str:
        return name[i] if name else str(i)

    hidden: set[linked.Cell] = set()
    if with_kinds:
        leaf = {(u, col(i), k): n for (u, i, k), n in counted.kinds.items()}
        hidden |= linked.settled(leaf, schools, rows, columns, KINDS, t, total, True, runs_, fixed)
    for m in measures:
        leaf = {(u, col(i), m): n for (u, i), n in counted.measures.get(m, {}).items()}
        hidden |= linked.settled(leaf, schools, rows, columns, (m,), t, total, False, runs_, fixed)
    return hidden


async def with_disclosure(conn: AsyncConnection, q: Query) -> Query:
    """The query with the period's pattern (services.reporting.linked), settled over the
    academic year's terms when the period is the year or one of them, and what it
    withholds of this answer's schools and totals."""
    assert q.threshold is not None
    whole = replace(q, schools=None, setting_type=None)
    type_of = {s.urn: s.setting_type for s in await schools_in_scope(conn, whole)}
    cuts, at = lattice(q)
    counted = await cut_counts(conn, whole, cuts, sent=True)
    columns = [str(i) for i in range(len(cuts))]
    several = len(cuts) > 1
    column = "Y" if at is None else columns[at]
    withheld = pattern(
        counted, type_of, rows_of(q, type_of), columns, q.threshold, "Y" if several else None
    )
    return replace(
        q,
        withheld=frozenset(withheld),
        terms=cuts if several else [],
        term_incidents=[
            sum(n for (_, i, _), n in counted.kinds.items() if i == at_) for at_ in range(len(cuts))
        ]
        if several
        else [],
        column=column,
    )


async def interval_pattern(
    conn: AsyncConnection,
    q: Query,
    cuts: list[tuple[str, date, date]],
    what: str,
    column: str | None = None,
) -> tuple[list[int], set[int]]:
    """For aggregate audiences: ``what`` (``all``, a kind or a measure) per interval of
    the period over this answer's schools, and the intervals withheld. Over the year's
    terms, the period's own pattern; else every school's intervals settled as linked
    tables under it: each row's intervals add up to the period's count (fixed as every
    answer of the period shows it), and runs of them to its terms'."""
    assert q.threshold is not None
    whole = replace(q, schools=None, setting_type=None)
    type_of = {s.urn: s.setting_type for s in await schools_in_scope(conn, whole)}
    row = q.row
    rows = rows_of(q, type_of)
    members = q.scope_urns(type_of)
    counted = await cut_counts(conn, whole, cuts)
    if q.terms and [(a, b) for _, a, b in cuts] == [(a, b) for _, a, b in q.terms]:
        names = [str(i) for i in range(len(cuts))]
        withheld: set[linked.Cell] = set(q.withheld)
    else:
        names = [f"b{i}" for i in range(len(cuts))]
        every = [*type_of, *rows]
        dims = (*KINDS, ALL) if what in (*KINDS, ALL) else (what,)
        # The intervals add up to the period's cells (``column``: the year's, for a term's
        # months read from the year's).
        total = column or q.column
        fixed = {(r, "P", w): (r, total, w) in q.withheld for r in every for w in dims}
        runs_: dict[str, list[str]] = {}
        for covered, inside in runs(q.terms, cuts):
            key = "t" + "-".join(str(c) for c in covered)
            runs_[key] = [names[i] for i in inside]
            for r in every:
                for w in dims:
                    fixed[(r, key, w)] = any((r, str(c), w) in q.withheld for c in covered)
        withheld = pattern(
            counted,
            type_of,
            rows,
            names,
            q.threshold,
            "P",
            runs_,
            fixed,
            measures=() if what in (*KINDS, ALL) else (what,),
            with_kinds=what in (*KINDS, ALL),
            name=dict(enumerate(names)),
        )
    values = []
    cells = counted.cells(what) if what != ALL else counted.cells("incidents")
    for i in range(len(cuts)):
        values.append(sum(cells.get((u, str(i)), 0) for u in members))
    return values, {i for i, n in enumerate(names) if (row, n, what) in withheld}


PUPILS = "pupils"


def pupils_pattern(
    q: Query, type_of: dict[str, str], distinct: dict[str, int]
) -> frozenset[linked.Cell]:
    """Distinct pupils per school (``distinct``) and over every published total of
    schools, as every answer of the period withholds them (a total counts a pupil of two
    schools twice: no answer's count is then given back by another's less a school's)."""
    assert q.threshold is not None
    leaf = {(u, q.column, PUPILS): n for u, n in distinct.items() if u in type_of}
    return linked.settled(
        leaf, sorted(type_of), rows_of(q, type_of), [q.column], (PUPILS,), q.threshold
    )


async def pupils_withheld(
    conn: AsyncConnection,
    q: Query,
    cuts: list[tuple[str, date, date]],
    per_school: dict[tuple[str, int], int],
) -> set[int]:
    """The intervals whose distinct pupils over this answer's schools are withheld: each
    school's per interval settled with every published total over schools (a type's, the
    trust's), as :func:`pupils_pattern` settles a period's. Over the year's terms, or the
    period itself, the very cells a summary of that period reads."""
    assert q.threshold is not None
    whole = replace(q, schools=None, setting_type=None)
    type_of = {s.urn: s.setting_type for s in await schools_in_scope(conn, whole)}
    spans = [(a, b) for _, a, b in cuts]
    if q.terms and spans == [(a, b) for _, a, b in q.terms]:
        names = [str(i) for i in range(len(cuts))]
    elif spans == [(q.period.from_date, q.period.to_date)]:
        names = [q.column]
    else:
        names = [f"b{i}" for i in range(len(cuts))]
    leaf = {(u, names[i], PUPILS): n for (u, i), n in per_school.items() if u in type_of}
    hidden = linked.settled(
        leaf, sorted(type_of), rows_of(q, type_of), names, (PUPILS,), q.threshold
    )
    return {i for i, name in enumerate(names) if (q.row, name, PUPILS) in hidden}
