"""The rollups the reports read, kept exact whatever order events arrive in.

Each counted incident (significant, not voided) contributes one share to ``incident_day``,
``incident_month``, ``report_day``, ``report_minutes``, ``pupil_year`` and ``pupil_month``,
computed from the base tables alone
(:func:`contribution`). A projection that changes anything an incident's share depends on
(its facts, flags, review, parent reports, or its staff's training) wraps the change in
:func:`touching`, which takes the old share away and adds the new one. So the rollups always
equal what :func:`refill` computes from the base tables in one pass (tested), and the
migration that introduced them, the benchmark and the projections agree.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from services.reporting import models as m
from services.reporting.periods import academic_year_of

RESTRAINT = ("physical_restraint", "mechanical_restraint")
SECLUSION = ("seclusion",)
CHARACTERISTICS = (
    "sen_provision",
    "year_group",
    "gender",
    "fsm_eligible",
    "fsm_ever6",
    "ethnicity",
)
f = m.incident_fact


def kind_of(intervention_type: str) -> str:
    """restraint, seclusion or other, as the reports group them."""
    if intervention_type in RESTRAINT:
        return "restraint"
    return "seclusion" if intervention_type in SECLUSION else "other"


def month_index(day: date) -> int:
    """Months since year 0: the key of ``pupil_month``."""
    return day.year * 12 + day.month - 1


BOOLEAN = ("fsm_eligible", "fsm_ever6")


def characteristics_key(chars: dict[str, Any]) -> str:
    """The pupil rollups' key for one set of characteristics as recorded (y/n for yes/no)."""

    def text(c: str) -> str:
        v = chars[c]
        if v is None:
            return ""
        return ("y" if v else "n") if c in BOOLEAN else str(v)

    return "|".join(text(c) for c in CHARACTERISTICS)


def characteristics_sql(table: Any = f) -> sa.ColumnElement[str]:
    """:func:`characteristics_key` in SQL, over the facts (or a table or subquery with the
    same six columns)."""
    parts: list[sa.ColumnElement[Any]] = []
    for c in CHARACTERISTICS:
        col = table.c[c]
        if c in BOOLEAN:
            parts.append(sa.case((col.is_(None), ""), (col, "y"), else_="n"))
        else:
            parts.append(sa.func.coalesce(col, ""))
    out = parts[0]
    for part in parts[1:]:
        out = out + sa.literal("|") + part
    return out


class Microseconds(sa.sql.expression.ColumnElement[int]):
    """Whole microseconds from one UTC time to a later one, exact on either dialect."""

    inherit_cache = True
    type = sa.BigInteger()
    _traverse_internals = [
        ("later", InternalTraversal.dp_clauseelement),
        ("earlier", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, later: sa.ColumnElement[Any], earlier: sa.ColumnElement[Any]) -> None:
        self.later, self.earlier = later, earlier


@compiles(Microseconds, "postgresql")
def _microseconds_pg(element: Microseconds, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = compiler.process(element.later, **kw), compiler.process(element.earlier, **kw)
    return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) * 1000000 AS BIGINT)"


@compiles(Microseconds, "sqlite")
def _microseconds_sqlite(element: Microseconds, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps a UTC time as 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds, then digits.
    def us(col: sa.ColumnElement[Any]) -> str:
        c = compiler.process(col, **kw)
        return (
            f"(CAST(strftime('%s', {c}) AS INTEGER) * 1000000"
            f" + CAST(substr({c}, 21, 6) AS INTEGER))"
        )

    return f"({us(element.later)} - {us(element.earlier)})"


BIN_MINUTES = 15


def delivery_values() -> dict[str, sa.ColumnElement[Any]]:
    """A parent report's minutes from its incident to its first delivery, and their bin
    (NULL until delivered): the same statement in the projections and in :func:`refill`."""
    s = m.parent_report_status
    us = Microseconds(s.c.first_delivered_at, s.c.incident_occurred_at)
    return {
        "delivery_minutes": sa.cast(us, sa.Float) / sa.literal(60_000_000.0, sa.Float),
        # Integer division: bins in the order of the minutes (toward zero below zero).
        "delivery_bin": us // sa.literal(BIN_MINUTES * 60_000_000, sa.BigInteger),
    }


@dataclass(frozen=True)
class Share:
    """One counted incident's share of every rollup."""

    fact: dict[str, Any]
    day: dict[str, int]
    reports: dict[str, int]
    # Its delivered parent reports per bin of minutes to first delivery.
    bins: dict[int, int] = field(default_factory=dict)


def _int(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def _report_columns(s: sa.Table) -> list[sa.ColumnElement[Any]]:
    delivered = s.c.first_delivered_at.is_not(None) & s.c.incident_occurred_at.is_not(None)
    return [
        sa.func.count().label("reports"),
        sa.func.count(s.c.outcome).label("completed"),
        _int(s.c.outcome == "met").label("met"),
        _int(s.c.outcome == "missed").label("missed"),
        _int(s.c.withheld).label("withheld"),
        _int(delivered).label("timed"),
    ]


def _untrained(trust: Any, incident: Any, on: Any) -> sa.ColumnElement[bool]:
    """Some member of staff on the incident had no training in date on the day."""
    s, t = m.incident_staff, m.training_record
    return sa.exists().where(
        (s.c.trust_id == trust)
        & (s.c.incident_id == incident)
        & ~sa.exists().where(
            (t.c.trust_id == s.c.trust_id)
            & (t.c.staff_id == s.c.staff_id)
            & (t.c.completed_on <= on)
            & (t.c.expires_on >= on)
        )
    )


def _scalar(stmt: sa.Select[Any], name: str) -> sa.ScalarSelect[Any]:
    return stmt.scalar_subquery().label(name)  # type: ignore[return-value]


REPORT_KEYS = ("reports", "completed", "met", "missed", "withheld", "timed", "sent")
EVERY = frozenset(
    {"incident_day", "incident_month", "report_day", "report_minutes", "pupil_year", "pupil_month"}
)
# What a change can move: its flags, review or staff training move only the daily incident
# row; its parent reports only the report rollups; its facts, everything.
DAY = frozenset({"incident_day", "incident_month"})
REPORTS = frozenset({"report_day", "report_minutes"})


async def contribution(
    conn: AsyncConnection, trust_id: str, incident_id: str, parts: frozenset[str] = EVERY
) -> Share | None:
    """The incident's share now (of the rollups in ``parts``), from the base tables (None:
    it does not count): the facts and counts in one statement, the delivery bins in one more."""
    p, r, s, pf = m.practice_flag, m.incident_review, m.parent_report_status, m.parent_report_fact
    of: dict[str, tuple[sa.Table, sa.Column[Any]]] = {}
    if "incident_day" in parts:
        of |= {"flagged": (p, p.c.incident_id), "reviewed": (r, r.c.incident_id)}
    if "report_day" in parts:
        of["sent"] = (pf, pf.c.incident_id)
    counts = [
        _scalar(
            sa.select(sa.func.count()).where((t.c.trust_id == trust_id) & (col == incident_id)),
            name,
        )
        for name, (t, col) in of.items()
    ]
    mine = (s.c.trust_id == trust_id) & (s.c.incident_id == incident_id)
    reports = [
        _scalar(sa.select(c).where(mine), c.name)  # type: ignore[arg-type]
        for c in (_report_columns(s) if "report_day" in parts else [])
    ]
    untrained = sa.case((_untrained(trust_id, incident_id, f.c.local_date), 1), else_=0)
    extra = [untrained.label("untrained")] if "incident_day" in parts else []
    row = (
        await conn.execute(
            sa.select(f, *counts, *reports, *extra).where(
                (f.c.trust_id == trust_id)
                & (f.c.incident_id == incident_id)
                & f.c.significant
                & ~f.c.voided
            )
        )
    ).first()
    if row is None:
        return None
    values = row._asdict()
    fact = {c.name: values[c.name] for c in f.columns}
    day = {
        "incidents": 1,
        "staff_injuries": int(fact["staff_injuries"]),
        "ground_restraint": int(fact["ground_restraint"]),
        "pupil_injuries": int(fact["pupil_injured"]),
        "late_records": int(fact["recorded_late"]),
        "flagged": int(values.get("flagged") or 0),
        "reviewed": int(bool(values.get("reviewed"))),
        "untrained": int(bool(values.get("untrained"))),
    }
    bins: dict[int, int] = {}
    if "report_minutes" in parts:
        rows = await conn.execute(
            sa.select(s.c.delivery_bin, sa.func.count())
            .where(mine & s.c.delivery_bin.is_not(None))
            .group_by(s.c.delivery_bin)
        )
        bins = {int(b): int(n) for b, n in rows}
    totals = {k: int(values.get(k) or 0) for k in REPORT_KEYS}
    return Share(fact=fact, day=day, reports=totals, bins=bins)


async def _add(
    conn: AsyncConnection,
    table: sa.Table,
    key: dict[str, Any],
    fixed: dict[str, Any],
    delta: dict[str, int],
    live: str,
) -> None:
    """Add ``delta`` to the keyed row (made if missing); a row whose ``live`` count falls to
    zero is removed, so the rollup is the same whatever the order of events."""
    if not any(delta.values()):
        return
    insert = (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)
    await conn.execute(
        insert.values(**key, **fixed, **delta).on_conflict_do_update(
            index_elements=list(key),
            set_={k: table.c[k] + v for k, v in delta.items() if v},
        )
    )
    if delta.get(live, 0) < 0:
        cond = sa.and_(*(table.c[k] == v for k, v in key.items()))
        await conn.execute(table.delete().where(cond & (table.c[live] == 0)))


def _rows(
    trust_id: str, share: Share
) -> Iterable[tuple[str, dict[str, Any], dict[str, Any], dict[str, int]]]:
    """The rows an incident's share goes to: (rollup, key, fixed columns, counts)."""
    fact = share.fact
    day: date = fact["local_date"]
    kind = kind_of(fact["intervention_type"])
    chars = {c: fact[c] for c in CHARACTERISTICS}
    pupil = {
        "trust_id": trust_id,
        "school_urn": fact["school_urn"],
        "pupil_id": fact["pupil_id"],
        "characteristics": characteristics_key(chars),
    }
    school = {"trust_id": trust_id, "school_urn": fact["school_urn"]}
    fixed = {"setting_type": fact["setting_type"]}
    what = {
        "kind": kind,
        "source": fact["source"] or "",
        "label": (fact["intervention_label"] or "") if kind == "seclusion" else "",
    }
    yield "incident_day", {**school, "local_date": day, **what}, fixed, share.day
    yield "incident_month", {**school, "month": month_index(day), **what}, fixed, share.day
    yield "report_day", {**school, "local_date": day}, fixed, share.reports
    for b, n in share.bins.items():
        yield (
            "report_minutes",
            {**school, "month": month_index(day), "bin": b},
            fixed,
            {"reports": n},
        )
    both = {**fixed, **chars}
    yield "pupil_year", {**pupil, "academic_year": academic_year_of(day)}, both, {"incidents": 1}
    yield "pupil_month", {**pupil, "month": month_index(day)}, both, {"incidents": 1}


LIVE = {"report_day": "reports", "report_minutes": "reports"}  # otherwise "incidents"


async def _move(
    conn: AsyncConnection,
    trust_id: str,
    before: Share | None,
    after: Share | None,
    parts: frozenset[str],
) -> None:
    """Take ``before`` away and add ``after``: only the rows and counts that differ."""
    changes: dict[tuple[str, tuple[tuple[str, Any], ...]], tuple[dict[str, Any], dict[str, int]]]
    changes = {}
    for share, sign in ((before, -1), (after, +1)):
        if share is None:
            continue
        for name, key, fixed, vector in _rows(trust_id, share):
            if name not in parts:
                continue
            slot = (name, tuple(sorted(key.items())))
            _, delta = changes.setdefault(slot, (fixed, {}))
            for k, v in vector.items():
                delta[k] = delta.get(k, 0) + sign * v
    for (name, row), (fixed, delta) in changes.items():
        await _add(
            conn, m.metadata.tables[name], dict(row), fixed, delta, LIVE.get(name, "incidents")
        )


@asynccontextmanager
async def touching(
    conn: AsyncConnection,
    trust_id: str,
    incident_ids: Iterable[str],
    parts: frozenset[str] = EVERY,
) -> AsyncIterator[None]:
    """Around a change to what these incidents' shares (of the rollups in ``parts``) depend
    on: take the old shares away after it, add the new ones, and date the incidents' parent
    reports."""
    ids = sorted(set(incident_ids))
    if conn.dialect.name == "postgresql":
        # Consumers run concurrently: two events of one incident must not both compute a
        # share from the same old state. One at a time per incident, in id order (no
        # deadlock); SQLite already writes one transaction at a time.
        for i in ids:
            await conn.execute(
                sa.text("SELECT pg_advisory_xact_lock(hashtext(:trust), hashtext(:incident))"),
                {"trust": trust_id, "incident": i},
            )
    before = {i: await contribution(conn, trust_id, i, parts) for i in ids}
    yield
    s = m.parent_report_status
    if "report_minutes" in parts:
        await conn.execute(
            s.update()
            .where((s.c.trust_id == trust_id) & s.c.incident_id.in_(ids))
            .values(**delivery_values())
        )
    for i in ids:
        after = await contribution(conn, trust_id, i, parts)
        if before[i] == after:
            continue
        await _move(conn, trust_id, before[i], after, parts)
        was = before[i]
        if (
            was is not None
            and after is not None
            and was.fact["local_date"] == after.fact["local_date"]
            and was.fact["school_urn"] == after.fact["school_urn"]
            and was.reports["reports"] == after.reports["reports"]
        ):
            continue  # the incident's parent reports are dated already
        # Dated, and placed at their incident's school, while it counts.
        placed: dict[str, Any] = {"local_date": None}
        if after is not None:
            placed = {
                "local_date": after.fact["local_date"],
                "school_urn": after.fact["school_urn"],
            }
        await conn.execute(
            s.update().where((s.c.trust_id == trust_id) & (s.c.incident_id == i)).values(**placed)
        )


async def staff_incidents(conn: AsyncConnection, trust_id: str, staff_id: str) -> list[str]:
    """Incidents a member of staff was involved in (their training changes those shares)."""
    s = m.incident_staff
    rows = await conn.execute(
        sa.select(s.c.incident_id).where((s.c.trust_id == trust_id) & (s.c.staff_id == staff_id))
    )
    return [r[0] for r in rows]


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
            sa.case((_untrained(f.c.trust_id, f.c.incident_id, f.c.local_date), 1), else_=0).label(
                "untrained"
            ),
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
        _int(y.outcome == "met"),
        _int(y.outcome == "missed"),
        _int(y.withheld),
        _int(y.first_delivered_at.is_not(None) & y.incident_occurred_at.is_not(None)),
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
    rm = m.report_minutes
    month = _month(f.c.local_date).label("month")
    bins = (
        sa.select(
            f.c.trust_id,
            f.c.school_urn,
            month,
            s.c.delivery_bin,
            sa.func.min(f.c.setting_type),
            sa.func.count(),
        )
        .select_from(f.join(s, joined))
        .where(counted & s.c.delivery_bin.is_not(None))
        .group_by(f.c.trust_id, f.c.school_urn, month, s.c.delivery_bin)
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
    for table in (d, im, rd, rm, m.pupil_year, m.pupil_month):
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
        rm.insert().from_select([c.name for c in rm.columns], bins),
        pupils(m.pupil_year, year),
        pupils(m.pupil_month, _month(f.c.local_date)),
    ]
