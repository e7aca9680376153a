"""The rollups the reports read, kept exact whatever order events arrive in.

Each counted incident (significant, not voided) contributes one share to ``incident_day``,
``incident_month``, ``report_day``, ``report_minutes``, ``report_minutes_week``,
``pupil_year`` and ``pupil_month``, computed from the base tables alone
(:func:`contribution`). A projection that changes anything an incident's share depends on
(its facts, flags, review, parent reports, or its staff's training) wraps the change in
:func:`touching`, which takes the old share away and adds the new one. So the rollups
always equal what :func:`services.reporting.refill.refill` computes from the base tables in
one pass (tested), and the migrations that fill them, the benchmark and the projections
agree.
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

from services.reporting import models as m
from services.reporting.delivery_time import delivery_values
from services.reporting.periods import academic_year_of

RESTRAINT = ("physical_restraint", "mechanical_restraint")
SECLUSION = ("seclusion",)
CHARACTERISTICS = m.CHARACTERISTICS
f = m.incident_fact


def kind_of(intervention_type: str) -> str:
    """restraint, seclusion or other, as the reports group them."""
    if intervention_type in RESTRAINT:
        return "restraint"
    return "seclusion" if intervention_type in SECLUSION else "other"


def month_index(day: date) -> int:
    """Months since year 0: the key of ``pupil_month``."""
    return day.year * 12 + day.month - 1


WEEK_ZERO = date(1900, 1, 1)  # a Monday


def week_index(day: date) -> int:
    """Weeks (Monday to Sunday) since Monday 1 January 1900: the key of
    ``report_minutes_week``."""
    return (day - WEEK_ZERO).days // 7


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


@dataclass(frozen=True)
class Share:
    """One counted incident's share of every rollup."""

    fact: dict[str, Any]
    day: dict[str, int]
    reports: dict[str, int]
    # Its delivered parent reports per bin of minutes to first delivery.
    bins: dict[int, int] = field(default_factory=dict)


def count_if(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def _report_columns(s: sa.Table) -> list[sa.ColumnElement[Any]]:
    delivered = s.c.first_delivered_at.is_not(None) & s.c.incident_occurred_at.is_not(None)
    return [
        sa.func.count().label("reports"),
        sa.func.count(s.c.outcome).label("completed"),
        count_if(s.c.outcome == "met").label("met"),
        count_if(s.c.outcome == "missed").label("missed"),
        count_if(s.c.withheld).label("withheld"),
        count_if(delivered).label("timed"),
    ]


def untrained_staff(trust: Any, incident: Any, on: Any) -> sa.ColumnElement[bool]:
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
EVERY = frozenset(m.ROLLUPS)
# What a change can move: its flags, review or staff training move only the daily incident
# row; its parent reports only the report rollups; its facts, everything.
DAY = frozenset({"incident_day", "incident_month"})
REPORTS = frozenset({"report_day", "report_minutes", "report_minutes_week"})


async def contribution(
    conn: AsyncConnection, trust_id: str, incident_id: str, parts: frozenset[str] = EVERY
) -> Share | None:
    """The incident's share now (of the rollups in ``parts``), from the base tables (None:
    it does not count), read in one statement."""
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
    untrained = sa.case((untrained_staff(trust_id, incident_id, f.c.local_date), 1), else_=0)
    extra: list[Any] = [untrained.label("untrained")] if "incident_day" in parts else []
    if "report_minutes" in parts:
        # Its delivered reports per bin, as text: "bin:count,bin:count".
        binned = (
            sa.select(s.c.delivery_bin, sa.func.count().label("n"))
            .where(mine & s.c.delivery_bin.is_not(None))
            .group_by(s.c.delivery_bin)
            .subquery("binned")
        )
        pair = sa.cast(binned.c.delivery_bin, sa.String) + ":" + sa.cast(binned.c.n, sa.String)
        extra.append(_scalar(sa.select(sa.func.aggregate_strings(pair, ",")), "bins"))
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
    for text in (values.get("bins") or "").split(","):
        if text:
            b, n = text.split(":")
            bins[int(b)] = int(n)
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
        for rollup, unit, bucket in (
            ("report_minutes", "month", month_index(day)),
            ("report_minutes_week", "week", week_index(day)),
        ):
            yield rollup, {**school, unit: bucket, "bin": b}, fixed, {"reports": n}
    both = {**fixed, **chars}
    yield "pupil_year", {**pupil, "academic_year": academic_year_of(day)}, both, {"incidents": 1}
    yield "pupil_month", {**pupil, "month": month_index(day)}, both, {"incidents": 1}


LIVE = {name: "reports" for name in REPORTS}  # otherwise "incidents"


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
    # Rows in one order (rollup, then key) in every transaction: two consumers moving the
    # same rows lock them in the same order, never each waiting on the other.
    for (name, row), (fixed, delta) in sorted(changes.items(), key=lambda c: c[0]):
        await _add(
            conn, m.metadata.tables[name], dict(row), fixed, delta, LIVE.get(name, "incidents")
        )


async def lock_staff(conn: AsyncConnection, trust_id: str, staff_ids: Iterable[str]) -> None:
    """Before reading or changing what decides whether staff were trained on an incident's
    day (a new incident's staff, a new certificate): one consumer at a time per member of
    staff, in id order, and always before ``touching`` locks incidents. Without it, an
    incident and a certificate of its staff applied at once each miss the other's write,
    and the incident's ``untrained`` count stays wrong."""
    if conn.dialect.name != "postgresql":
        return  # SQLite writes one transaction at a time
    for staff_id in sorted(set(staff_ids)):
        await conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtext(:trust || ':staff'), hashtext(:staff))"),
            {"trust": trust_id, "staff": staff_id},
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
