"""The ledger: each report's timeline, its events, and how its standard is decided.

The standard is ``met`` only when the written report reached the parent on the incident's
local day (an email delivered, or a written report handed over and recorded by staff); an
SMS alone carries no written details. A report missed at the deadline stays open.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import models as m
from services.notifications.clock import same_local_day
from shared.events import payloads as p
from shared.outbox.writer import record_event

OPEN_STATUSES = ("held", "awaiting_approval", "queued", "sent")
WRITTEN = frozenset({"email", "letter", "local_authority"})


def report_key(trust_id: str, report_id: str) -> sa.ColumnElement[bool]:
    """The primary key condition of one report."""
    r = m.parent_report
    return (r.c.trust_id == trust_id) & (r.c.report_id == report_id)


async def load(conn: AsyncConnection, trust_id: str, report_id: str) -> sa.Row | None:
    """One report by id (unscoped: workers and the sweeper)."""
    return (
        await conn.execute(sa.select(m.parent_report).where(report_key(trust_id, report_id)))
    ).first()


def is_open(report: sa.Row) -> bool:
    """Whether the parent is still to be told (a missed report stays open)."""
    return report.status in OPEN_STATUSES and report.told_at is None


async def note(
    conn: AsyncConnection, report: sa.Row, at: datetime, kind: str, **detail: Any
) -> None:
    """Add one entry to the report's timeline."""
    await conn.execute(
        m.report_event.insert().values(
            trust_id=report.trust_id,
            # Time-ordered ids keep entries of the same instant in the order they happened.
            event_id=f"{time.time_ns():020d}-{uuid.uuid4().hex[:15]}",
            report_id=report.report_id,
            at=at,
            kind=kind,
            detail=detail,
        )
    )


async def emit(
    conn: AsyncConnection, report: sa.Row, type: str, at: datetime, payload: Any
) -> None:
    """Write a parent_report event to the outbox in the caller's transaction."""
    await record_event(
        conn,
        m.outbox,
        type=type,
        trust_id=report.trust_id,
        school_urn=report.school_urn,
        subject_id=report.report_id,
        subject_revision=report.revision,
        occurred_at=at,
        payload=payload,
    )


async def bump(conn: AsyncConnection, report: sa.Row, **values: Any) -> sa.Row:
    """Update the report, raising its revision; return the new row."""
    await conn.execute(
        m.parent_report.update()
        .where(report_key(report.trust_id, report.report_id))
        .values(revision=report.revision + 1, **values)
    )
    row = await load(conn, report.trust_id, report.report_id)
    assert row is not None
    return row


async def skip_open_steps(conn: AsyncConnection, report: sa.Row, at: datetime, why: str) -> None:
    """Nothing more is due for this report: its remaining steps are skipped."""
    s = m.report_step
    await conn.execute(
        s.update()
        .where(
            (s.c.trust_id == report.trust_id)
            & (s.c.report_id == report.report_id)
            & (s.c.status == "due")
        )
        .values(status="skipped", done_at=at, detail=why)
    )


async def complete(
    conn: AsyncConnection, report: sa.Row, at: datetime, standard: str, reason: str | None
) -> sa.Row:
    """Record the standard's outcome and emit ``parent_report.completed.v1``."""
    report = await bump(conn, report, standard=standard, standard_reason=reason)
    await note(conn, report, at, "completed", standard=standard, reason=reason)
    await emit(
        conn,
        report,
        "parent_report.completed.v1",
        at,
        p.ParentReportCompletedV1(
            report_id=report.report_id,
            incident_id=report.incident_id,
            pupil_id=report.pupil_id,
            standard=standard,  # type: ignore[arg-type]
            reason=reason,
            incident_occurred_at=report.incident_occurred_at,
            local_date=report.local_date,
            deadline_at=report.deadline_at,
            first_sent_at=report.sent_at,
            told_at=report.told_at,
            told_how=report.told_how,
            completed_at=at,
        ),
    )
    return report


async def mark_told(
    conn: AsyncConnection,
    report: sa.Row,
    *,
    told_at: datetime,
    how: str,
    by: str | None,
    now: datetime,
    status: str | None = None,
) -> sa.Row | None:
    """The parent has the written report: close it and decide (or confirm) the standard.

    Returns None when the report was already closed (a repeat changes nothing).
    """
    if not is_open(report):
        return None
    values: dict[str, Any] = {"told_at": told_at, "told_how": how, "told_by": by}
    if status:
        values["status"] = status
    report = await bump(conn, report, **values)
    await note(conn, report, now, "told", how=how, told_at=told_at.isoformat(), by=by)
    await skip_open_steps(conn, report, now, "parent told")
    on_time = same_local_day(told_at, report.local_date, report.timezone)
    if report.standard == "missed":
        # Decided at the deadline; the late telling is recorded on a new completion.
        return await complete(conn, report, now, "missed", report.standard_reason)
    if on_time and how in WRITTEN:
        return await complete(conn, report, now, "met", None)
    return await complete(conn, report, now, "missed", "written report reached the parent late")


async def mark_missed(conn: AsyncConnection, report: sa.Row, now: datetime) -> sa.Row:
    """The deadline passed without the written report reaching the parent."""
    reason = await missed_reason(conn, report)
    report = await complete(conn, report, now, "missed", reason)
    return report


async def missed_reason(conn: AsyncConnection, report: sa.Row) -> str:
    """Why the written report did not reach the parent, from what the ledger shows."""
    if report.hold == "safeguarding":
        return "on safeguarding hold at the deadline"
    if report.hold == "approval":
        return "awaiting a school lead's approval at the deadline"
    if report.kind == "local_authority":
        return "no local-authority notification recorded"
    if report.kind == "unknown_contact":
        return "no contact with parental responsibility on record"
    msg = m.message
    rows = (
        await conn.execute(
            sa.select(msg.c.channel, msg.c.status).where(
                (msg.c.trust_id == report.trust_id)
                & (msg.c.report_id == report.report_id)
                & (msg.c.recipient_kind == "parent")
            )
        )
    ).all()
    emails = [r.status for r in rows if r.channel == "email"]
    if not emails:
        return "no email address for the parent; no written report sent"
    if any(s in ("permanent-failure", "technical-failure") for s in emails):
        return "email failed permanently"
    if any(s == "unknown" for s in emails):
        return "email outcome unknown"
    if report.verbal_at is not None:
        return "told verbally only; no written report delivered"
    return "email not delivered by the deadline"
