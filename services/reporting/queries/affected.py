"""Who was affected, by characteristic: incidents and distinct pupils per group of every
dimension (SEN provision, FSM now and ever-6, gender, ethnicity group, year group), read
in one statement from the pupil rollups and the facts, per school and interval when asked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting import rollups
from services.reporting.queries.base import Query
from services.reporting.queries.pupil_rows import pupil_source
from services.reporting.queries.spans import chunks

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


async def read_affected(
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
