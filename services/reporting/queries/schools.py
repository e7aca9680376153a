"""Each school beside its setting-type peers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting import statistics as st
from services.reporting.disclosure import (
    HIDDEN,
    Count,
    share_of,
    small,
    stat,
    suppress_column,
    suppress_one,
    suppress_parts,
)
from services.reporting.patterns import school_cells
from services.reporting.queries import delivery
from services.reporting.queries.base import (
    Query,
    incident_rows,
    r,
    report_cond,
    rolls,
    schools_in_scope,
)
from services.reporting.queries.summary import meta, rolls_by_school
from services.reporting.schemas import ParentReports, SchoolRow, SchoolsReport

COLUMNS = (
    "incidents",
    "seclusion",
    "ground_restraint",
    "pupil_injuries",
    "staff_injuries",
    "late",
    "flagged",
)


def _int(col: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((col, 1), else_=0)), 0)


async def incident_columns(conn: AsyncConnection, q: Query) -> dict[str, dict[str, int]]:
    """Per school: incidents, seclusion, ground restraint, injuries, late records and flagged
    practices (rollup)."""

    def total(col: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(col), 0)

    x = incident_rows(q).c
    rows = await conn.execute(
        sa.select(
            x.school_urn,
            total(x.incidents),
            total(sa.case((x.kind == "seclusion", x.incidents), else_=0)),
            total(x.ground_restraint),
            total(x.pupil_injuries),
            total(x.staff_injuries),
            total(x.late_records),
            total(x.flagged),
        ).group_by(x.school_urn)
    )
    return {r[0]: dict(zip(COLUMNS, (int(x) for x in r[1:]), strict=True)) for r in rows}


@dataclass
class ReportStats:
    """One school's parent reports: counts, and percentiles of minutes to first delivery."""

    reports: int = 0
    completed: int = 0
    met: int = 0
    missed: int = 0
    withheld: int = 0
    timed: int = 0
    median: float | None = None
    p90: float | None = None


async def parent_report_stats(conn: AsyncConnection, q: Query) -> dict[str, ReportStats]:
    """Parent reports of the period's incidents, per school: counts from the rollup, and the
    median and 90th percentile of minutes to first delivery."""
    out: dict[str, ReportStats] = {}
    rows = await conn.execute(
        sa.select(
            r.c.school_urn,
            *(
                sa.func.sum(r.c[k])
                for k in ("reports", "completed", "met", "missed", "withheld", "timed")
            ),
        )
        .where(report_cond(q))
        .group_by(r.c.school_urn)
    )
    for row in rows:
        n = [int(x) for x in row[1:]]
        out[row[0]] = ReportStats(
            reports=n[0], completed=n[1], met=n[2], missed=n[3], withheld=n[4], timed=n[5]
        )
    timed = [urn for urn, x in out.items() if x.timed]
    if timed:
        for urn, (median, p90) in (await delivery.percentiles(conn, q, timed)).items():
            out[urn].median, out[urn].p90 = median, p90
    return out


async def training_coverage(
    conn: AsyncConnection, q: Query, on: date
) -> dict[str, tuple[int, int]]:
    """Per school: (staff needing training, of whom with training in date on ``on``)."""
    s, t = m.staff, m.training_record
    in_date = sa.exists().where(
        (t.c.trust_id == s.c.trust_id)
        & (t.c.staff_id == s.c.staff_id)
        & (t.c.completed_on <= on)
        & (t.c.expires_on >= on)
    )
    rows = await conn.execute(
        sa.select(s.c.school_urn, sa.func.count(), _int(in_date))
        .where((s.c.trust_id == q.trust_id) & s.c.active & s.c.requires_training)
        .group_by(s.c.school_urn)
    )
    return {urn: (int(n), int(k)) for urn, n, k in rows}


def parent_report_summary(r: ReportStats, cells: dict[str, Count], t: int | None) -> ParentReports:
    """Counts and delivery times of one school's parent reports (cells already suppressed)."""
    few = t is not None and 1 <= r.timed <= t
    times = Count(count=None, suppressed=True) if few else Count(count=r.timed)
    return ParentReports(
        reports=cells["reports"],
        met=cells["met"],
        met_share=_share(r.met, r.completed, t, cells["met"], cells["missed"]),
        missed=cells["missed"],
        withheld=cells["withheld"],
        median_minutes_to_delivery=stat(r.median, times),
        p90_minutes_to_delivery=stat(r.p90, times),
    )


async def schools_report(conn: AsyncConnection, q: Query) -> SchoolsReport:
    """Each school's rates, seclusion, injuries, timeliness, parent reports, flags, training."""
    t = q.threshold
    # Peers: the whole trust's schools of each setting type, whatever the caller's scope.
    peers_q = Query(**{**q.__dict__, "schools": None, "setting_type": None})
    all_schools = await schools_in_scope(conn, peers_q)
    schools = [
        s
        for s in all_schools
        if (q.schools is None or s.urn in q.schools)
        and (not q.setting_type or s.setting_type == q.setting_type)
    ]
    counts = await incident_columns(conn, q)
    roll = rolls_by_school(await rolls(conn, q))
    reports = await parent_report_stats(conn, q)
    training = await training_coverage(conn, q, q.as_at)
    whole = q.schools is None and q.setting_type is None
    peer_counts = counts if whole else await incident_columns(conn, peers_q)
    peer_roll = roll if whole else rolls_by_school(await rolls(conn, peers_q))
    type_of = {s.urn: s.setting_type for s in all_schools}
    peer: dict[str, list[int]] = {}
    for urn, setting in type_of.items():
        acc = peer.setdefault(setting, [0, 0])
        acc[0] += peer_counts.get(urn, {}).get("incidents", 0)
        acc[1] += peer_roll.get(urn, 0)

    def column(values: list[int]) -> list[Count]:
        return suppress_column(values, t)

    urns = [s.urn for s in schools]
    cols = {name: column([counts.get(u, {}).get(name, 0) for u in urns]) for name in COLUMNS}
    if t is not None:
        # Incidents as every answer of the period shows each school's.
        totals = {u: counts.get(u, {}).get("incidents", 0) for u in urns}
        cols["incidents"] = school_cells(urns, totals, q.withheld_schools("incidents"))
        cols["seclusion"] = school_cells(
            urns,
            {u: counts.get(u, {}).get("seclusion", 0) for u in urns},
            q.withheld_schools("seclusion"),
        )
        # Each measure as every answer of the period shows each school's (a trend's
        # intervals add up to its total over any scope).
        for name, measure in (
            ("ground_restraint", "ground_restraint"),
            ("pupil_injuries", "pupil_injuries"),
            ("staff_injuries", "staff_injuries"),
            ("late", "late_records"),
            ("flagged", "flagged"),
        ):
            cols[name] = school_cells(
                urns,
                {u: counts.get(u, {}).get(name, 0) for u in urns},
                q.withheld_schools(measure),
            )
    roll_cells = column([roll.get(u, 0) for u in urns])
    none = ReportStats()
    pr_raw = {
        k: [getattr(reports.get(u, none), k) for u in urns]
        for k in ("reports", "met", "missed", "withheld")
    }
    # No answer publishes a total of these over schools: each is withheld on its own (and
    # within its school's row, below), the same in every answer.
    pr_cells = {k: [suppress_one(n, t) for n in v] for k, v in pr_raw.items()}
    if t is not None:
        # A school's reports often number its incidents: withheld with them.
        for i, u in enumerate(urns):
            if u in q.hidden_schools:
                for k, v in pr_raw.items():
                    if v[i]:
                        pr_cells[k][i] = Count(count=None, suppressed=True)
    # Met, missed and withheld are parts of a school's reports: none withheld may be the
    # only unknown in its row.
    parts = ("met", "missed", "withheld")
    for i in range(len(urns)):
        cells, pr_cells["reports"][i] = suppress_parts(
            [pr_cells[k][i] for k in parts],
            [pr_raw[k][i] for k in parts],
            pr_cells["reports"][i],
            t,
        )
        for k, c in zip(parts, cells, strict=True):
            pr_cells[k][i] = c
    # A type's rate with its published roll gives back its total: withheld with it.
    veiled = q.types_withheld("all")
    rows = []
    for i, s in enumerate(schools):
        n = counts.get(s.urn, {})
        staff_n, trained = training.get(s.urn, (0, 0))
        peer_n, peer_r = peer.get(s.setting_type, [0, 0])
        rows.append(
            SchoolRow(
                school_urn=s.urn,
                name=s.name,
                setting_type=s.setting_type,
                roll=roll_cells[i],
                incidents=cols["incidents"][i],
                rate=stat(
                    st.rate_per_100(n.get("incidents", 0), roll.get(s.urn)),
                    cols["incidents"][i],
                    roll_cells[i],
                ),
                peer_rate=HIDDEN
                if small(peer_n, t) or s.setting_type in veiled
                else stat(st.rate_per_100(peer_n, peer_r)),
                seclusion=cols["seclusion"][i],
                seclusion_share=_share(
                    n.get("seclusion", 0),
                    n.get("incidents", 0),
                    t,
                    cols["seclusion"][i],
                    cols["incidents"][i],
                ),
                ground_restraint=cols["ground_restraint"][i],
                pupil_injuries=cols["pupil_injuries"][i],
                staff_injuries=cols["staff_injuries"][i],
                late_records=cols["late"][i],
                on_time_share=_share(
                    n.get("incidents", 0) - n.get("late", 0),
                    n.get("incidents", 0),
                    t,
                    cols["late"][i],
                    cols["incidents"][i],
                ),
                parent_reports=parent_report_summary(
                    reports.get(s.urn, none), {k: v[i] for k, v in pr_cells.items()}, t
                ),
                flagged_practices=cols["flagged"][i],
                training_coverage=share_of(trained, staff_n, t),
            )
        )
    return SchoolsReport(**meta(q), schools=rows)  # type: ignore[arg-type]


def _share(part: int, whole: int, t: int | None, *cells: Count) -> Any:
    """A share withheld when a source cell is withheld or the share itself would reveal one."""
    out = share_of(part, whole, t)
    return out if out.suppressed else stat(out.value, *cells)
