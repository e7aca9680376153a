"""Disproportionality: each group per 100 on roll, and its risk ratio against a comparator."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import linked
from services.reporting import statistics as st
from services.reporting.disclosure import HIDDEN, Count, Stat, small, stat, suppress_column
from services.reporting.linked import ALL
from services.reporting.periods import academic_year_period
from services.reporting.queries.affected import (
    DIMENSIONS,
    Affected,
    Tally,
    ethnicity_group,
    read_affected,
)
from services.reporting.queries.base import Query, rolls_of, schools_in_scope
from services.reporting.queries.summary import meta
from services.reporting.queries.withheld import PUPILS, pupils_pattern, rows_of
from services.reporting.schemas_analysis import DisproportionalityReport, GroupRow


def _norm(dim: str) -> Any:
    return ethnicity_group if dim == "ethnicity" else (lambda g: g or "unknown")


def _rolls(dim: str, on_roll: dict[tuple[str, str], int]) -> dict[str, int]:
    norm, roll = _norm(dim), dict[str, int]()
    for (_, grp), n in on_roll.items():
        roll[norm(grp)] = roll.get(norm(grp), 0) + n
    return roll


def _dimension(
    q: Query,
    dim: str,
    on_roll: dict[tuple[str, str], int],
    incidents: dict[str, int],
    pupils: dict[str, int],
    withheld: dict[str, frozenset[str]] | None = None,
) -> list[GroupRow]:
    t = q.threshold
    roll = _rolls(dim, on_roll)
    groups = sorted(set(roll) | set(incidents))
    inc = [incidents.get(g, 0) for g in groups]
    pup = [pupils.get(g, 0) for g in groups]
    rol = [roll.get(g, 0) for g in groups]
    inc_c, pup_c, rol_c = (suppress_column(v, t) for v in (inc, pup, rol))
    if withheld is not None:
        # As the period's pattern withholds each group over these schools.
        def mark(values: list[int], hidden: frozenset[str]) -> list[Count]:
            return [
                Count(count=None, suppressed=True) if g in hidden else Count(count=n)
                for g, n in zip(groups, values, strict=True)
            ]

        inc_c = mark(inc, withheld["incidents"])
        pup_c = mark(pup, withheld["pupils"])
        rol_c = mark(rol, withheld["roll"])
    total_roll, total_pupils = sum(rol), sum(pup)
    n_at = groups.index("N") if "N" in groups else -1
    out = []
    for i, g in enumerate(groups):
        against: list[Count] = []
        if dim == "sen":
            if g == "N":
                comparator, other_roll, other_aff = "all", 0, 0
            else:
                comparator = "N"
                other_roll = rol[n_at] if n_at >= 0 else 0
                other_aff = pup[n_at] if n_at >= 0 else 0
                if n_at >= 0:  # the ratio with this group's cells gives N's back
                    against = [pup_c[n_at], rol_c[n_at]]
        else:
            comparator, other_roll, other_aff = "others", total_roll - rol[i], total_pupils - pup[i]
        rr = st.risk_ratio(pup[i], rol[i], other_aff, other_roll) if other_roll else None
        hidden = (
            pup_c[i].suppressed
            or rol_c[i].suppressed
            or any(c.suppressed for c in against)
            or small(other_aff, t)
            or small(other_roll, t)
        )

        def shown(value: float | None, hide: bool = hidden) -> Stat:
            return HIDDEN if hide else Stat(value=value)

        out.append(
            GroupRow(
                dimension=dim,
                group=g,
                comparator=comparator,
                roll=rol_c[i],
                incidents=inc_c[i],
                pupils=pup_c[i],
                incidents_per_100=stat(st.rate_per_100(inc[i], rol[i]), inc_c[i], rol_c[i]),
                pupils_per_100=stat(st.rate_per_100(pup[i], rol[i]), pup_c[i], rol_c[i]),
                risk_ratio=shown(rr.ratio if rr else None),
                ci_lower=shown(rr.lower if rr else None),
                ci_upper=shown(rr.upper if rr else None),
                significant=None if hidden or rr is None else rr.significant,
            )
        )
    return out


def _pattern(
    q: Query,
    type_of: dict[str, str],
    affected: Affected,
    on_roll: dict[str, dict[tuple[str, str], int]],
    buckets: set[int] | None,
) -> dict[str, dict[str, frozenset[str]]]:
    """Per dimension, the groups the period's pattern withholds over this answer's
    schools: each group's incidents per school and interval (the year's terms, when the
    period is the year or one of them), pupils and roll per school, settled as linked
    tables (services.reporting.linked) whose totals are the schools' incidents and
    distinct pupils as every answer of the period shows them."""
    assert q.threshold is not None
    t, col, row = q.threshold, q.column, q.row
    schools = sorted(type_of)
    rows = rows_of(q, type_of)
    every = [*schools, *rows]
    columns = [str(i) for i in range(max(1, len(q.terms)))]
    total = "Y" if len(columns) > 1 else None
    per_school = affected.by_school(buckets)
    per_cell = affected.incidents()
    pupil_cells = pupils_pattern(q, type_of, affected.distinct(buckets))
    fix_incidents = {
        (r, c, ALL): (r, c, ALL) in q.withheld
        for r in every
        for c in [*columns, *([total] if total else [])]
    }
    fix_pupils = {(r, col, ALL): (r, col, PUPILS) in pupil_cells for r in every}
    none: Tally = {d: ({}, {}) for d in DIMENSIONS}
    out: dict[str, dict[str, frozenset[str]]] = {}
    for dim in DIMENSIONS:
        mine: dict[str, frozenset[str]] = {}
        rolls_by: dict[tuple[str, str], int] = {}
        norm = _norm(dim)
        for (u, grp), n in on_roll.get(dim, {}).items():
            rolls_by[(u, norm(grp))] = rolls_by.get((u, norm(grp)), 0) + n
        totals: dict[str, int] = {}
        for (u, _), n in rolls_by.items():
            totals[u] = totals.get(u, 0) + n
        fix_roll: dict[linked.Cell, bool] = {
            (u, col, ALL): False for u, n in totals.items() if not 1 <= n <= t
        }
        leaf = {
            (u, str(b), g): n for (u, b, d, g), n in per_cell.items() if d == dim and u in type_of
        }
        names = tuple(sorted({g for _, _, g in leaf}))
        hidden = (
            linked.settled(leaf, schools, rows, columns, names, t, total, True, None, fix_incidents)
            if names
            else frozenset()
        )
        mine["incidents"] = frozenset(g for r, c, g in hidden if r == row and c == col and g != ALL)
        for what, part, fixed in (
            (
                "pupils",
                {
                    (u, col, g): n
                    for u in schools
                    for g, n in per_school.get(u, none)[dim][1].items()
                },
                fix_pupils,
            ),
            ("roll", {(u, col, g): n for (u, g), n in rolls_by.items() if u in type_of}, fix_roll),
        ):
            names = tuple(sorted({g for _, _, g in part}))
            hidden = (
                linked.settled(part, schools, rows, [col], names, t, None, True, None, fixed)
                if names
                else frozenset()
            )
            mine[what] = frozenset(g for r, _, g in hidden if r == row and g != ALL)
        out[dim] = mine
    return out


async def disproportionality(conn: AsyncConnection, q: Query) -> DisproportionalityReport:
    """SEN (E and K against N), FSM now and ever-6, gender, ethnicity group, year group."""
    groups: list[GroupRow] = []
    if q.threshold is None:
        tally = (await read_affected(conn, q)).tally()
        on_roll = await rolls_of(conn, q, DIMENSIONS)
        for dim in DIMENSIONS:
            groups += _dimension(q, dim, on_roll.get(dim, {}), *tally[dim])
        return DisproportionalityReport(**meta(q), groups=groups)  # type: ignore[arg-type]
    # Aggregate audiences: every school's groups (in each of the year's terms, when the
    # period is the year or one of them), so that each group over these schools is
    # withheld as the period's one pattern has it.
    whole = replace(q, schools=None, setting_type=None)
    type_of = {s.urn: s.setting_type for s in await schools_in_scope(conn, whole)}
    # Each term's rows (the year's terms), read only for terms with incidents: where one
    # term alone has any, the period's rows are all its own.
    busy = [(i, a, b) for i, (_, a, b) in enumerate(q.terms) if q.term_incidents[i]]
    if len(busy) > 1:
        affected = await read_affected(conn, whole, by_school=True, cuts=busy)
    else:
        only = busy[0][0] if busy else 0
        period = (
            whole
            if not q.terms
            else whole.with_period(academic_year_period(q.period.academic_year))
        )
        affected = await read_affected(conn, period, by_school=True, bucket_of_all=only)
    buckets = None if q.column == "Y" else {int(q.column)}
    everyone = await rolls_of(conn, whole, DIMENSIONS)
    scope = set(q.scope_urns(type_of))
    tally = affected.tally(scope, buckets)
    withheld = _pattern(q, type_of, affected, everyone, buckets)
    for dim in DIMENSIONS:
        mine = {k: n for k, n in everyone.get(dim, {}).items() if k[0] in scope}
        groups += _dimension(q, dim, mine, *tally[dim], withheld=withheld[dim])
    return DisproportionalityReport(**meta(q), groups=groups)  # type: ignore[arg-type]
