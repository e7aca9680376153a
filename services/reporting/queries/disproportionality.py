"""Disproportionality: each group per 100 on roll, and its risk ratio against a comparator."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting import statistics as st
from services.reporting.disclosure import HIDDEN, Stat, small, stat, suppress_column
from services.reporting.queries.base import PUPIL_COLUMNS, Query, chunks, pupil_source, rolls
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


def _yes_no(col: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    return sa.case((col.is_(None), "unknown"), (col, "yes"), else_="no")


def _ethnicity_group(col: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """:func:`ethnicity_group` in SQL."""
    return sa.case(
        (col.is_(None) | col.in_(["REFU", "NOBT", ""]), "unclassified"),
        (col.in_([*ETHNIC_GROUPS.values(), "unclassified"]), col),
        *((sa.func.substr(col, 1, 1) == k, v) for k, v in ETHNIC_GROUPS.items()),
        else_="other",
    )


p = m.pupil


def dimensions(t: Any) -> dict[str, sa.ColumnElement[Any]]:
    """Each characteristic's group as at the incident (as the record gave it); where the
    record left it unknown, the pupil's latest value."""

    def known(col: str) -> sa.ColumnElement[Any]:
        return sa.func.coalesce(t.c[col], p.c[col])

    return {
        "sen": t.c.sen_provision,
        "fsm": _yes_no(known("fsm_eligible")),
        "fsm_ever6": _yes_no(known("fsm_ever6")),
        "gender": sa.func.coalesce(known("gender"), "unknown"),
        "ethnicity": _ethnicity_group(known("ethnicity")),
        "year_group": sa.func.coalesce(known("year_group"), "unknown"),
    }


DIMENSIONS = tuple(dimensions(m.incident_fact))


async def _affected(
    conn: AsyncConnection, q: Query
) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
    """Incidents and distinct pupils per group of every dimension.

    The database groups the pupil rollups' rows (and the facts', for days outside whole
    months) by all six groups at once: a few hundred combinations back, each with its
    incidents and rows. Most pupils have one row; those with more (two schools, or a
    characteristic that changed) are read again so each counts once per group."""
    years, months, days = chunks(q.period.from_date, q.period.to_date)
    if months or days or len(years) > 1:
        # A pupil's months (or years, or days) as one row per school and characteristics,
        # so few pupils have several rows to be read again.
        raw = pupil_source(q).subquery("raw")
        cols = [raw.c[c] for c in PUPIL_COLUMNS]
        src = (
            sa.select(*cols, sa.func.sum(raw.c.incidents).label("incidents"))
            .group_by(*cols)
            .cte("src")
        )
    else:
        src = pupil_source(q).cte("src")
    joined = src.outerjoin(p, (p.c.trust_id == q.trust_id) & (p.c.pupil_id == src.c.pupil_id))
    groups = list(dimensions(src).values())
    incidents: dict[str, dict[str, int]] = {d: {} for d in DIMENSIONS}
    pupils: dict[str, dict[str, int]] = {d: {} for d in DIMENSIONS}
    combos = await conn.execute(
        sa.select(sa.func.sum(src.c.incidents), sa.func.count(), *groups)
        .select_from(joined)
        .group_by(*groups)
    )
    for n, rows, *values in combos:
        for dim, grp in zip(DIMENSIONS, values, strict=True):
            g = grp or "unknown"
            incidents[dim][g] = incidents[dim].get(g, 0) + int(n)
            pupils[dim][g] = pupils[dim].get(g, 0) + int(rows)
    several = sa.select(src.c.pupil_id).group_by(src.c.pupil_id).having(sa.func.count() > 1)
    seen: dict[tuple[str, str], set[str]] = {}
    repeats = await conn.execute(
        sa.select(src.c.pupil_id, *groups).select_from(joined).where(src.c.pupil_id.in_(several))
    )
    for pupil, *values in repeats:
        for dim, grp in zip(DIMENSIONS, values, strict=True):
            g = grp or "unknown"
            who = seen.setdefault((dim, g), set())
            if pupil in who:
                pupils[dim][g] -= 1  # the same pupil again in this group
            who.add(pupil)
    return {d: (incidents[d], pupils[d]) for d in DIMENSIONS}


async def _dimension(
    conn: AsyncConnection,
    q: Query,
    dim: str,
    incidents: dict[str, int],
    pupils: dict[str, int],
) -> list[GroupRow]:
    t = q.threshold
    norm = ethnicity_group if dim == "ethnicity" else (lambda g: g or "unknown")
    roll: dict[str, int] = {}
    for (_, grp), n in (await rolls(conn, q, dim)).items():
        g = norm(grp)
        roll[g] = roll.get(g, 0) + n
    groups = sorted(set(roll) | set(incidents))
    inc = [incidents.get(g, 0) for g in groups]
    pup = [pupils.get(g, 0) for g in groups]
    rol = [roll.get(g, 0) for g in groups]
    inc_c, pup_c, rol_c = (suppress_column(v, t) for v in (inc, pup, rol))
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
    for dim in DIMENSIONS:
        groups += await _dimension(conn, q, dim, *affected[dim])
    return DisproportionalityReport(**meta(q), groups=groups)  # type: ignore[arg-type]
