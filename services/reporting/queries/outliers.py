"""Outliers and under-reporting: funnel plots within each setting type, and warning signs.

Signals, each stated with its rule:
- ``incidents_below_99.8`` / ``incidents_above_99.8`` (and ``seclusion_...``): the count is
  outside the 99.8% Poisson limits around the setting type's rate times the school's roll;
- ``injuries_with_few_incidents``: at least 3 staff injuries, and staff injuries per
  incident at least 3 times the setting type's (a school may be recording only the worst);
- ``late_records``: at least 5 records, and at least 20%, entered after the local day after;
- ``late_parent_reports``: at least 5 parent reports missed the same-day standard, and at
  least 20% (and twice the trust's share) of those completed;
- ``rising_staff_injuries``: at least 5 staff injuries, above the 99.8% Poisson limit
  around the same weeks of the previous period (at least 1; a school with no records
  then has no baseline).
Positions and signals are categories, not counts: governors see them even where the
count itself is withheld (an under-reporting school is what they most need to see). The
type's rate, the expected count and the limits are withheld wherever the type's total,
less the schools shown, would give back a withheld count.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import statistics as st
from services.reporting.disclosure import (
    stat,
    suppress_column,
)
from services.reporting.patterns import school_cells
from services.reporting.queries.base import Query, r, report_cond, rolls, schools_in_scope
from services.reporting.queries.schools import incident_columns
from services.reporting.queries.summary import like_for_like, meta, rolls_by_school
from services.reporting.schemas_analysis import FunnelRow, OutliersReport, Signal

METRICS = ("incidents", "seclusion")


async def _missed(conn: AsyncConnection, q: Query) -> dict[str, tuple[int, int]]:
    """Per school: parent reports completed, and of them missed the same-day standard."""
    rows = await conn.execute(
        sa.select(r.c.school_urn, sa.func.sum(r.c.completed), sa.func.sum(r.c.missed))
        .where(report_cond(q))
        .group_by(r.c.school_urn)
        .having(sa.func.sum(r.c.completed) > 0)
    )
    return {urn: (int(n), int(k)) for urn, n, k in rows}


async def outliers(conn: AsyncConnection, q: Query) -> OutliersReport:
    """Each school's funnel position per metric, and the schools singled out."""
    t = q.threshold
    whole = Query(**{**q.__dict__, "schools": None, "setting_type": None})
    everyone = await schools_in_scope(conn, whole)
    counts = await incident_columns(conn, whole)
    roll = rolls_by_school(await rolls(conn, whole))
    by_type: dict[str, dict[str, int]] = {}
    for s in everyone:
        acc = by_type.setdefault(
            s.setting_type, {"roll": 0, "incidents": 0, "seclusion": 0, "staff_injuries": 0}
        )
        acc["roll"] += roll.get(s.urn, 0)
        for k in ("incidents", "seclusion", "staff_injuries"):
            acc[k] += counts.get(s.urn, {}).get(k, 0)
    mine = await schools_in_scope(conn, q)
    urns = [s.urn for s in mine]
    roll_cells = suppress_column([roll.get(u, 0) for u in urns], t)
    funnels: list[FunnelRow] = []
    signals: list[Signal] = []
    for metric in METRICS:
        observed = [counts.get(u, {}).get(metric, 0) for u in urns]
        cells = suppress_column(observed, t)
        withheld = q.withheld_schools(metric)
        if t is not None:
            # As every answer of the period shows each school's incidents (or seclusions).
            cells = school_cells(urns, dict(zip(urns, observed, strict=True)), withheld)
        # A type's rate with its roll gives back its total: withheld with it.
        veiled = q.types_withheld({"incidents": "all"}.get(metric, metric))
        for i, s in enumerate(mine):
            peers = by_type[s.setting_type]
            n_roll = roll.get(s.urn, 0)
            target = peers[metric] / peers["roll"] if peers["roll"] else None
            # The type's rate times its roll would give back its total.
            shown = s.setting_type not in veiled
            row = FunnelRow(
                school_urn=s.urn,
                name=s.name,
                setting_type=s.setting_type,
                metric=metric,
                roll=roll_cells[i],
                observed=cells[i],
                expected=None,
                rate=stat(st.rate_per_100(observed[i], n_roll), cells[i], roll_cells[i]),
                target_rate=round(100 * target, 4) if target is not None and shown else None,
                lower_95=None,
                upper_95=None,
                lower_99_8=None,
                upper_99_8=None,
                position_95=None,
                position_99_8=None,
            )
            if target is not None and n_roll:
                fun = st.funnel(target * n_roll)
                if shown:
                    row.expected = round(fun.expected, 3)
                    # Limits as rates (they would give back the type's rate: withheld with it).
                    row.lower_95, row.upper_95 = (
                        round(100 * x / n_roll, 4) for x in fun.limits["95"]
                    )
                    row.lower_99_8, row.upper_99_8 = (
                        round(100 * x / n_roll, 4) for x in fun.limits["99.8"]
                    )
                row.position_95 = fun.position(observed[i], "95")
                row.position_99_8 = fun.position(observed[i], "99.8")
                if row.position_99_8 != "within":
                    signals.append(
                        Signal(
                            school_urn=s.urn,
                            name=s.name,
                            signal=f"{metric}_{row.position_99_8}_99.8",
                            detail=f"{metric} outside the 99.8% limits for its roll within "
                            f"{s.setting_type} schools",
                        )
                    )
            funnels.append(row)
    missed = await _missed(conn, whole)
    trust_missed = sum(k for _, k in missed.values()) / max(1, sum(n for n, _ in missed.values()))
    prev = like_for_like(q)
    before = await incident_columns(conn, whole.with_period(prev))
    for s in mine:
        c = counts.get(s.urn, {})
        peers = by_type[s.setting_type]
        inj, inc = c.get("staff_injuries", 0), c.get("incidents", 0)
        peer_ratio = peers["staff_injuries"] / peers["incidents"] if peers["incidents"] else 0
        if inj >= 3 and (inc == 0 or (peer_ratio and inj / inc >= 3 * peer_ratio)):
            signals.append(
                Signal(
                    school_urn=s.urn,
                    name=s.name,
                    signal="injuries_with_few_incidents",
                    detail="staff injuries high for the incidents recorded",
                )
            )
        late = c.get("late", 0)
        if late >= 5 and inc and late / inc >= 0.2:
            signals.append(
                Signal(
                    school_urn=s.urn,
                    name=s.name,
                    signal="late_records",
                    detail="many records entered after the next local day",
                )
            )
        done, miss = missed.get(s.urn, (0, 0))
        if miss >= 5 and miss / done >= max(0.2, 2 * trust_missed):
            signals.append(
                Signal(
                    school_urn=s.urn,
                    name=s.name,
                    signal="late_parent_reports",
                    detail="parents not told the same day",
                )
            )
        base = before.get(s.urn, {})
        was = base.get("staff_injuries", 0)
        # No records at all in the weeks before is no baseline, not a rise.
        if (
            base.get("incidents")
            and inj >= 5
            and st.funnel(max(was, 1)).position(inj, "99.8") == "above"
        ):
            signals.append(
                Signal(
                    school_urn=s.urn,
                    name=s.name,
                    signal="rising_staff_injuries",
                    detail=f"staff injuries up on the same weeks of {prev.label}",
                )
            )
    return OutliersReport(**meta(q), funnels=funnels, signals=signals)  # type: ignore[arg-type]
