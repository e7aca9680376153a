"""Disproportionality: each group per 100 on roll, and its risk ratio against a comparator."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import linked, rollups
from services.reporting import models as m
from services.reporting import statistics as st
from services.reporting.disclosure import HIDDEN, Count, Stat, small, stat, suppress_column
from services.reporting.linked import ALL
from services.reporting.periods import academic_year_period
from services.reporting.queries.base import Query, pupil_source, rolls_of, schools_in_scope
from services.reporting.queries.spans import chunks
from services.reporting.queries.summary import meta
from services.reporting.queries.withheld import PUPILS, pupils_pattern, rows_of
from services.reporting.schemas_analysis import DisproportionalityReport, GroupRow

ETHNIC_GROUPS = {
    "W": "white",
    "M": "mixed",
    "A": "asian",
    "B": "black",
    "C": "chinese",
    "O": "other",
}


def ethnicity_group(code: str | None) -> str:
    """The census main code's major group (REFU, NOBT and missing: unclassified)."""
    if not code or code in ("REFU", "NOBT"):
        return "unclassified"
    if code in ETHNIC_GROUPS.values() or code == "unclassified":
        return code
    return ETHNIC_GROUPS.get(code[0], "other")


p = m.pupil
DIMENSIONS = ("sen", "fsm", "fsm_ever6", "gender", "ethnicity", "year_group")
FILL = "#"  # between the recorded characteristics and the pupil's latest, in a row's key


def groups_of(key: str) -> list[str]:
    """A pupil rollup row's group in each dimension, from its characteristics key: each
    characteristic as the record gave it, or where the record left it unknown, the pupil's
    latest value (after ``FILL``). SEN provision is always the record's."""
    recorded, _, latest = key.partition(FILL)
    now = recorded.split("|")
    then = latest.split("|") if latest else [""] * len(now)
    v = dict(
        zip(rollups.CHARACTERISTICS, (a or b for a, b in zip(now, then, strict=True)), strict=True)
    )

    def yes_no(c: str) -> str:
        return {"y": "yes", "n": "no"}.get(v[c], "unknown")

    groups = {
        "sen": now[0] or "unknown",
        "fsm": yes_no("fsm_eligible"),
        "fsm_ever6": yes_no("fsm_ever6"),
        "gender": v["gender"] or "unknown",
        "ethnicity": ethnicity_group(v["ethnicity"]),
        "year_group": v["year_group"] or "unknown",
    }
    return [groups[d] for d in DIMENSIONS]


Tally = dict[str, tuple[dict[str, int], dict[str, int]]]


@dataclass
class Affected:
    """Rows of the affected-pupils statement: per (school or "", interval, groups key) the
    incidents and rows (``counted``), and the pupils with several rows (``several``)."""

    counted: list[tuple[str, int, str, int, int]]
    several: list[tuple[str, int, str, str]]

    def by_school(self, buckets: set[int] | None = None) -> dict[str, Tally]:
        """Per school: incidents and distinct pupils per group of every dimension, over
        these intervals (None: all)."""
        incidents: dict[tuple[str, str], dict[str, int]] = {}
        pupils: dict[tuple[str, str], dict[str, int]] = {}
        for urn, b, key, n, rows in self.counted:
            if buckets is not None and b not in buckets:
                continue
            for dim, g in zip(DIMENSIONS, named(key), strict=True):
                inc = incidents.setdefault((urn, dim), {})
                inc[g] = inc.get(g, 0) + n
                pup = pupils.setdefault((urn, dim), {})
                pup[g] = pup.get(g, 0) + rows
        seen: dict[tuple[str, str, str], set[str]] = {}
        for urn, b, key, pupil in self.several:
            if buckets is not None and b not in buckets:
                continue
            for dim, g in zip(DIMENSIONS, named(key), strict=True):
                # Counted once per row above: once per group instead.
                pupils[(urn, dim)][g] -= 1
                seen.setdefault((urn, dim, g), set()).add(pupil)
        for (urn, dim, g), who in seen.items():
            pupils[(urn, dim)][g] += len(who)
        out: dict[str, Tally] = {}
        for urn in {u for u, _ in incidents}:
            out[urn] = {
                d: (incidents.get((urn, d), {}), pupils.get((urn, d), {})) for d in DIMENSIONS
            }
        return out

    def tally(self, urns: set[str] | None = None, buckets: set[int] | None = None) -> Tally:
        """Incidents and distinct pupils per group of every dimension, over these schools
        and intervals (None: every row)."""
        incidents: dict[str, dict[str, int]] = {d: {} for d in DIMENSIONS}
        pupils: dict[str, dict[str, int]] = {d: {} for d in DIMENSIONS}
        for urn, b, key, n, rows in self.counted:
            if (urns is not None and urn not in urns) or (buckets is not None and b not in buckets):
                continue
            for dim, g in zip(DIMENSIONS, named(key), strict=True):
                incidents[dim][g] = incidents[dim].get(g, 0) + n
                pupils[dim][g] = pupils[dim].get(g, 0) + rows
        seen: dict[tuple[str, str], set[str]] = {}
        for urn, b, key, pupil in self.several:
            if (urns is not None and urn not in urns) or (buckets is not None and b not in buckets):
                continue
            for dim, g in zip(DIMENSIONS, named(key), strict=True):
                pupils[dim][g] -= 1
                seen.setdefault((dim, g), set()).add(pupil)
        for (dim, g), who in seen.items():
            pupils[dim][g] += len(who)
        return {d: (incidents[d], pupils[d]) for d in DIMENSIONS}

    def incidents(self) -> dict[tuple[str, int, str, str], int]:
        """Incidents per (school, interval, dimension, group)."""
        out: dict[tuple[str, int, str, str], int] = {}
        for urn, b, key, n, _ in self.counted:
            for dim, g in zip(DIMENSIONS, named(key), strict=True):
                out[(urn, b, dim, g)] = out.get((urn, b, dim, g), 0) + n
        return out

    def distinct(self, buckets: set[int] | None = None) -> dict[str, int]:
        """Distinct pupils per school over these intervals (None: all)."""
        out: dict[str, int] = {}
        for urn, b, _, _, rows in self.counted:
            if buckets is None or b in buckets:
                out[urn] = out.get(urn, 0) + rows
        seen: dict[str, set[str]] = {}
        for urn, b, _, pupil in self.several:
            if buckets is None or b in buckets:
                out[urn] -= 1
                seen.setdefault(urn, set()).add(pupil)
        for urn, who in seen.items():
            out[urn] += len(who)
        return out


@lru_cache(maxsize=4096)
def named(key: str) -> tuple[str, ...]:
    """A groups key's group in each dimension."""
    return tuple(groups_of(key))


async def _affected(
    conn: AsyncConnection,
    q: Query,
    by_school: bool = False,
    cuts: list[tuple[int, date, date]] | None = None,
    bucket_of_all: int = 0,
) -> Affected:
    """Incidents and distinct pupils per group of every dimension (and ``by_school``, per
    school), in one statement.

    Each row of the pupil rollups (and of the facts, for days outside whole months) gets
    its six groups as one key; over months or days, a pupil's rows with the same recorded
    characteristics are summed first. Incidents and rows then add up by key: one row per
    pupil, for all but the few with several keys (two schools, or a characteristic that
    changed), whose rows come back so that each counts once in every group they were in."""
    # Each row's recorded characteristics key, and whether the record left one unknown.
    fillable = rollups.CHARACTERISTICS[1:]
    place = ("school_urn",) if by_school else ()
    columns = ("pupil_id", *place, *fillable, "characteristics")
    carried: list[tuple[str, str]] = []  # (name, source column): the real ones only
    if cuts:
        # Each interval's rows, marked with it.
        parts = []
        for i, first, last in cuts:
            sub = pupil_source(q, first, last, columns).subquery(f"p{i}")
            parts.append(sa.select(sa.literal(i).label("bucket"), *sub.c))
        src = (parts[0] if len(parts) == 1 else sa.union_all(*parts)).subquery("src")
        carried.append(("bucket", "bucket"))
    else:
        src = pupil_source(q, columns=columns).subquery("src")
    if by_school:
        carried.append(("school", "school_urn"))
    gap = sa.case((sa.or_(*(src.c[c].is_(None) for c in fillable)), 1), else_=0)
    raw = sa.select(
        src.c.pupil_id,
        *(src.c[c].label(n) for n, c in carried),
        src.c.characteristics,
        src.c.incidents,
        gap.label("gap"),
    )
    years, months, days = chunks(q.period.from_date, q.period.to_date)
    if cuts or months or days or len(years) > 1:
        # A pupil's months (and days) with the same characteristics as one row.
        r = raw.subquery("rows")
        raw = sa.select(
            r.c.pupil_id,
            *(r.c[n] for n, _ in carried),
            r.c.characteristics,
            sa.func.sum(r.c.incidents).label("incidents"),
            sa.func.max(r.c.gap).label("gap"),
        ).group_by(r.c.pupil_id, *(r.c[n] for n, _ in carried), r.c.characteristics)
    x = raw.subquery("x")
    # Where the record left a characteristic unknown, the pupil's latest values follow the
    # recorded ones in the key.
    unknown = x.c.gap == 1
    joined = x.outerjoin(p, (p.c.trust_id == q.trust_id) & (p.c.pupil_id == x.c.pupil_id) & unknown)
    key = x.c.characteristics + sa.case(
        (unknown, sa.literal(FILL) + rollups.characteristics_sql(p)), else_=""
    )
    keyed = sa.select(
        x.c.pupil_id, *(x.c[n] for n, _ in carried), x.c.incidents, key.label("groups")
    ).select_from(joined)
    j = keyed.cte("j")
    school = j.c.school if by_school else sa.literal("")
    bucket = j.c.bucket if cuts else sa.literal(bucket_of_all)
    several = sa.select(j.c.pupil_id).group_by(j.c.pupil_id).having(sa.func.count() > 1)
    nobody = sa.cast(sa.null(), sa.String)
    rows = await conn.execute(
        sa.union_all(
            sa.select(
                sa.literal("k"),
                school,
                bucket,
                j.c.groups,
                sa.func.sum(j.c.incidents),
                sa.func.count(),
                nobody,
            ).group_by(*(j.c[n] for n, _ in carried), j.c.groups),
            sa.select(
                sa.literal("m"),
                school,
                bucket,
                j.c.groups,
                sa.literal(0),
                sa.literal(0),
                j.c.pupil_id,
            ).where(j.c.pupil_id.in_(several)),
        )
    )
    out = Affected([], [])
    for what, urn, b, key_, n, count, pupil in rows:
        if what == "k":
            out.counted.append((urn or "", int(b), key_, int(n), int(count)))
        else:
            out.several.append((urn or "", int(b), key_, pupil))
    return out


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
                Count(count=None, suppressed=True) if g in hidden and n else Count(count=n)
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
        tally = (await _affected(conn, q)).tally()
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
        affected = await _affected(conn, whole, by_school=True, cuts=busy)
    else:
        only = busy[0][0] if busy else 0
        period = (
            whole
            if not q.terms
            else whole.with_period(academic_year_period(q.period.academic_year))
        )
        affected = await _affected(conn, period, by_school=True, bucket_of_all=only)
    buckets = None if q.column == "Y" else {int(q.column)}
    everyone = await rolls_of(conn, whole, DIMENSIONS)
    scope = set(q.scope_urns(type_of))
    tally = affected.tally(scope, buckets)
    withheld = _pattern(q, type_of, affected, everyone, buckets)
    for dim in DIMENSIONS:
        mine = {k: n for k, n in everyone.get(dim, {}).items() if k[0] in scope}
        groups += _dimension(q, dim, mine, *tally[dim], withheld=withheld[dim])
    return DisproportionalityReport(**meta(q), groups=groups)  # type: ignore[arg-type]
