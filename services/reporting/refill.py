"""The rollups computed afresh from the base tables, one pass each: what the projections
keep (:mod:`services.reporting.rollups`), for a migration or a bulk load. A test holds the
two equal."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from services.reporting import models as m
from services.reporting.delivery_time import delivery_values
from services.reporting.rollups import (
    CHARACTERISTICS,
    RESTRAINT,
    SECLUSION,
    characteristics_sql,
    count_if,
    untrained_staff,
)

f = m.incident_fact


class WeekIndex(sa.sql.expression.ColumnElement[int]):
    """A date's week (Monday to Sunday) since Monday 1 January 1900, as
    :func:`services.reporting.rollups.week_index` computes it."""

    inherit_cache = True
    type = sa.Integer()
    _traverse_internals = [("day", InternalTraversal.dp_clauseelement)]

    def __init__(self, day: sa.ColumnElement[Any]) -> None:
        self.day = day


@compiles(WeekIndex, "postgresql")
def _week_pg(element: WeekIndex, compiler: SQLCompiler, **kw: Any) -> str:
    # A date minus a date is whole days.
    return f"(({compiler.process(element.day, **kw)} - DATE '1900-01-01') / 7)"


@compiles(WeekIndex, "sqlite")
def _week_sqlite(element: WeekIndex, compiler: SQLCompiler, **kw: Any) -> str:
    # 2415020.5 is the Julian day of 1900-01-01 (midnight): the difference is whole days.
    return f"(CAST(julianday({compiler.process(element.day, **kw)}) - 2415020.5 AS INTEGER) / 7)"


def _month(col: sa.ColumnElement[Any]) -> sa.ColumnElement[int]:
    return (
        sa.cast(sa.extract("year", col), sa.Integer) * 12
        + sa.cast(sa.extract("month", col), sa.Integer)
        - 1
    )


def refill(trust_ids: list[str] | None = None) -> list[sa.Executable]:
    """Statements that empty the rollups (of these trusts) and compute them afresh from the
    base tables in one pass each: what the projections keep, for a migration or a bulk load."""
    counted = f.c.significant & ~f.c.voided
    if trust_ids is not None:
        counted = counted & f.c.trust_id.in_(trust_ids)
    kind = sa.case(
        (f.c.intervention_type.in_(RESTRAINT), "restraint"),
        (f.c.intervention_type.in_(SECLUSION), "seclusion"),
        else_="other",
    )
    p, r = m.practice_flag, m.incident_review
    flags = (
        sa.select(sa.func.count())
        .where((p.c.trust_id == f.c.trust_id) & (p.c.incident_id == f.c.incident_id))
        .scalar_subquery()
    )
    reviewed = sa.exists().where(
        (r.c.trust_id == f.c.trust_id) & (r.c.incident_id == f.c.incident_id)
    )
    per_fact = (
        sa.select(
            f.c.trust_id,
            f.c.school_urn,
            f.c.local_date,
            kind.label("kind"),
            sa.func.coalesce(f.c.source, "").label("source"),
            sa.case(
                (
                    f.c.intervention_type.in_(SECLUSION),
                    sa.func.coalesce(f.c.intervention_label, ""),
                ),
                else_="",
            ).label("label"),
            f.c.setting_type,
            f.c.staff_injuries,
            sa.case((f.c.ground_restraint, 1), else_=0).label("ground"),
            sa.case((f.c.pupil_injured, 1), else_=0).label("injured"),
            sa.case((f.c.recorded_late, 1), else_=0).label("late"),
            flags.label("flags"),
            sa.case((reviewed, 1), else_=0).label("reviewed"),
            sa.case(
                (untrained_staff(f.c.trust_id, f.c.incident_id, f.c.local_date), 1), else_=0
            ).label("untrained"),
        )
        .where(counted)
        .subquery()
    )
    x = per_fact.c
    day_key = (x.trust_id, x.school_urn, x.local_date, x.kind, x.source, x.label)
    days = sa.select(
        *day_key,
        sa.func.min(x.setting_type),
        sa.func.count(),
        *(sa.func.sum(c) for c in (x.staff_injuries, x.ground, x.injured, x.late)),
        *(sa.func.sum(c) for c in (x.flags, x.reviewed, x.untrained)),
    ).group_by(*day_key)
    d = m.incident_day
    day_cols = [c.name for c in d.columns]

    s, pf = m.parent_report_status, m.parent_report_fact
    joined = (f.c.trust_id == s.c.trust_id) & (f.c.incident_id == s.c.incident_id)
    sent = (
        sa.select(sa.func.count())
        .where((pf.c.trust_id == s.c.trust_id) & (pf.c.report_id == s.c.report_id))
        .scalar_subquery()
    )
    # Sent reports whose status row is missing cannot happen (the projection makes both).
    per_report = (
        sa.select(
            f.c.trust_id,
            f.c.school_urn,
            f.c.local_date,
            f.c.setting_type,
            s.c.outcome,
            s.c.withheld,
            s.c.first_delivered_at,
            s.c.incident_occurred_at,
            sent.label("sent"),
        )
        .select_from(f.join(s, joined))
        .where(counted)
        .subquery()
    )
    y = per_report.c
    rkey = (y.trust_id, y.school_urn, y.local_date)
    reports = sa.select(
        *rkey,
        sa.func.min(y.setting_type),
        sa.func.count(),
        sa.func.coalesce(sa.func.sum(y.sent), 0),
        sa.func.count(y.outcome),
        count_if(y.outcome == "met"),
        count_if(y.outcome == "missed"),
        count_if(y.withheld),
        count_if(y.first_delivered_at.is_not(None) & y.incident_occurred_at.is_not(None)),
    ).group_by(*rkey)
    rd = m.report_day

    def pupils(table: sa.Table, bucket: sa.ColumnElement[Any]) -> sa.Executable:
        chars = [f.c[c] for c in CHARACTERISTICS]
        key_text = characteristics_sql()
        return table.insert().from_select(
            [
                "trust_id",
                table.c.keys()[1],
                "school_urn",
                "pupil_id",
                "characteristics",
                "setting_type",
                *CHARACTERISTICS,
                "incidents",
            ],
            sa.select(
                f.c.trust_id,
                bucket,
                f.c.school_urn,
                f.c.pupil_id,
                key_text,
                sa.func.min(f.c.setting_type),
                *chars,
                sa.func.count(),
            )
            .where(counted)
            .group_by(f.c.trust_id, bucket, f.c.school_urn, f.c.pupil_id, *chars),
        )

    year = sa.case(
        (
            sa.extract("month", f.c.local_date) >= 9,
            sa.cast(sa.extract("year", f.c.local_date), sa.Integer),
        ),
        else_=sa.cast(sa.extract("year", f.c.local_date), sa.Integer) - 1,
    )
    rm, rw = m.report_minutes, m.report_minutes_week

    def bins(bucket: sa.ColumnElement[int]) -> sa.Select[Any]:
        return (
            sa.select(
                f.c.trust_id,
                f.c.school_urn,
                bucket,
                s.c.delivery_bin,
                sa.func.min(f.c.setting_type),
                sa.func.count(),
            )
            .select_from(f.join(s, joined))
            .where(counted & s.c.delivery_bin.is_not(None))
            .group_by(f.c.trust_id, f.c.school_urn, bucket, s.c.delivery_bin)
        )

    im = m.incident_month
    of_day = _month(d.c.local_date)
    per_month = sa.select(
        d.c.trust_id,
        d.c.school_urn,
        of_day,
        d.c.kind,
        d.c.source,
        d.c.label,
        sa.func.min(d.c.setting_type),
        *(sa.func.sum(d.c[c]) for c in day_cols[7:]),
    ).group_by(d.c.trust_id, d.c.school_urn, of_day, d.c.kind, d.c.source, d.c.label)
    if trust_ids is not None:
        per_month = per_month.where(d.c.trust_id.in_(trust_ids))
    wipe = []
    for table in (m.metadata.tables[name] for name in m.ROLLUPS):
        stmt = table.delete()
        if trust_ids is not None:
            stmt = stmt.where(table.c.trust_id.in_(trust_ids))
        wipe.append(stmt)
    counts = joined & f.c.significant & ~f.c.voided
    dated = s.update().values(
        local_date=sa.select(f.c.local_date).where(counts).scalar_subquery(),
        school_urn=sa.func.coalesce(
            sa.select(f.c.school_urn).where(counts).scalar_subquery(), s.c.school_urn
        ),
        **delivery_values(),
    )
    if trust_ids is not None:
        dated = dated.where(s.c.trust_id.in_(trust_ids))
    return [
        *wipe,
        dated,
        d.insert().from_select(day_cols, days),
        im.insert().from_select([c.name for c in im.columns], per_month),
        rd.insert().from_select([c.name for c in rd.columns], reports),
        rm.insert().from_select([c.name for c in rm.columns], bins(_month(f.c.local_date))),
        rw.insert().from_select([c.name for c in rw.columns], bins(WeekIndex(f.c.local_date))),
        pupils(m.pupil_year, year),
        pupils(m.pupil_month, _month(f.c.local_date)),
    ]
