"""Disproportionality: each group per 100 on roll, and its risk ratio against a comparator."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting import rollups
from services.reporting import statistics as st
from services.reporting.disclosure import HIDDEN, Count, Stat, small, stat, suppress_column
from services.reporting.queries.base import Query, pupil_source, rolls_of
from services.reporting.queries.spans import chunks
from services.reporting.queries.summary import meta
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


async def _affected(
    conn: AsyncConnection, q: Query
) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
    """Incidents and distinct pupils per group of every dimension, in one statement.

    Each row of the pupil rollups (and of the facts, for days outside whole months) gets
    its six groups as one key; over months or days, a pupil's rows with the same recorded
    characteristics are summed first. Incidents and rows then add up by key: one row per
    pupil, for all but the few with several keys (two schools, or a characteristic that
    changed), whose rows come back so that each counts once in every group they were in."""
    # Each row's recorded characteristics key, and whether the record left one unknown.
    fillable = rollups.CHARACTERISTICS[1:]
    src = pupil_source(q, columns=("pupil_id", *fillable, "characteristics")).subquery("src")
    gap = sa.case((sa.or_(*(src.c[c].is_(None) for c in fillable)), 1), else_=0)
    raw = sa.select(src.c.pupil_id, src.c.characteristics, src.c.incidents, gap.label("gap"))
    years, months, days = chunks(q.period.from_date, q.period.to_date)
    if months or days or len(years) > 1:
        # A pupil's months (and days) with the same characteristics as one row.
        r = raw.subquery("rows")
        raw = sa.select(
            r.c.pupil_id,
            r.c.characteristics,
            sa.func.sum(r.c.incidents).label("incidents"),
            sa.func.max(r.c.gap).label("gap"),
        ).group_by(r.c.pupil_id, r.c.characteristics)
    x = raw.subquery("x")
    # Where the record left a characteristic unknown, the pupil's latest values follow the
    # recorded ones in the key.
    unknown = x.c.gap == 1
    joined = x.outerjoin(p, (p.c.trust_id == q.trust_id) & (p.c.pupil_id == x.c.pupil_id) & unknown)
    key = x.c.characteristics + sa.case(
        (unknown, sa.literal(FILL) + rollups.characteristics_sql(p)), else_=""
    )
    keyed = sa.select(x.c.pupil_id, x.c.incidents, key.label("groups")).select_from(joined)
    j = keyed.cte("j")
    several = sa.select(j.c.pupil_id).group_by(j.c.pupil_id).having(sa.func.count() > 1)
    nobody = sa.cast(sa.null(), sa.String)
    rows = await conn.execute(
        sa.union_all(
            sa.select(
                sa.literal("k"), j.c.groups, sa.func.sum(j.c.incidents), sa.func.count(), nobody
            ).group_by(j.c.groups),
            sa.select(
                sa.literal("m"), j.c.groups, sa.literal(0), sa.literal(0), j.c.pupil_id
            ).where(j.c.pupil_id.in_(several)),
        )
    )
    incidents: dict[str, dict[str, int]] = {d: {} for d in DIMENSIONS}
    pupils: dict[str, dict[str, int]] = {d: {} for d in DIMENSIONS}
    seen: dict[tuple[str, str], set[str]] = {}
    named: dict[str, list[str]] = {}
    for what, key_, n, rows_, pupil in rows:
        if key_ not in named:
            named[key_] = groups_of(key_)
        for dim, g in zip(DIMENSIONS, named[key_], strict=True):
            if what == "k":
                incidents[dim][g] = incidents[dim].get(g, 0) + int(n)
                pupils[dim][g] = pupils[dim].get(g, 0) + int(rows_)
            else:
                # Counted once per row above: once per group instead.
                pupils[dim][g] -= 1
                seen.setdefault((dim, g), set()).add(pupil)
    for (dim, g), who in seen.items():
        pupils[dim][g] += len(who)
    return {d: (incidents[d], pupils[d]) for d in DIMENSIONS}


def _dimension(
    q: Query,
    dim: str,
    on_roll: dict[tuple[str, str], int],
    incidents: dict[str, int],
    pupils: dict[str, int],
) -> list[GroupRow]:
    t = q.threshold
    norm = ethnicity_group if dim == "ethnicity" else (lambda g: g or "unknown")
    roll: dict[str, int] = {}
    for (_, grp), n in on_roll.items():
        g = norm(grp)
        roll[g] = roll.get(g, 0) + n
    groups = sorted(set(roll) | set(incidents))
    inc = [incidents.get(g, 0) for g in groups]
    pup = [pupils.get(g, 0) for g in groups]
    rol = [roll.get(g, 0) for g in groups]
    inc_c, pup_c, rol_c = (suppress_column(v, t) for v in (inc, pup, rol))
    if q.veiled:
        # These schools' incidents are withheld in every answer: so is each group's share.
        inc_c = [Count(count=None, suppressed=True) if n else Count(count=0) for n in inc]
    total_roll, total_pupils = sum(rol), sum(pup)
    out = []
    for i, g in enumerate(groups):
        if dim == "sen":
            if g == "N":
                comparator, other_roll, other_aff = "all", 0, 0
            else:
                comparator = "N"
                j = groups.index("N") if "N" in groups else -1
                other_roll = rol[j] if j >= 0 else 0
                other_aff = pup[j] if j >= 0 else 0
        else:
            comparator, other_roll, other_aff = "others", total_roll - rol[i], total_pupils - pup[i]
        rr = st.risk_ratio(pup[i], rol[i], other_aff, other_roll) if other_roll else None
        hidden = (
            pup_c[i].suppressed
            or rol_c[i].suppressed
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


async def disproportionality(conn: AsyncConnection, q: Query) -> DisproportionalityReport:
    """SEN (E and K against N), FSM now and ever-6, gender, ethnicity group, year group."""
    groups: list[GroupRow] = []
    affected = await _affected(conn, q)
    on_roll = await rolls_of(conn, q, DIMENSIONS)
    for dim in DIMENSIONS:
        groups += _dimension(q, dim, on_roll.get(dim, {}), *affected[dim])
    return DisproportionalityReport(**meta(q), groups=groups)  # type: ignore[arg-type]
