"""Staff decisions on parent reports: release, approve, withhold, contact recorded, resend.

Each runs in the caller's transaction on a report the repository already scoped; messages
go out from an arq wake-up enqueued once the decision is committed (or the sweeper's next
pass, without Redis), never from the request itself.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import clock as cl
from services.notifications import ledger, steps
from services.notifications import models as m
from shared.auth.principal import Principal
from shared.errors import Conflict, ValidationFailed
from shared.events import payloads as p


async def release(
    conn: AsyncConnection, report: sa.Row, principal: Principal, now: datetime, hold: str
) -> sa.Row:
    """End a hold (``safeguarding`` by a DSL, ``approval`` by a school lead) and start sending."""
    if report.status not in ("held", "awaiting_approval") or report.hold != hold:
        raise Conflict(f"The report is not waiting for {hold} (status {report.status}).")
    report = await ledger.bump(
        conn, report, status="queued", hold=None, decided_by=principal.subject, decided_at=now
    )
    await ledger.note(
        conn,
        report,
        now,
        "released" if hold == "safeguarding" else "approved",
        by=principal.subject,
        role=principal.role,
    )
    policy = await cl.policy_for(conn, report.trust_id, report.school_urn)
    await steps.plan_sending(conn, report, policy, now)
    return report


async def withhold(
    conn: AsyncConnection, report: sa.Row, principal: Principal, now: datetime, reason: str
) -> sa.Row:
    """A DSL withholds a report for likely significant harm; it never sends.

    When no parent of the incident may then be told, a local-authority notification is
    required, and its absence escalates like a missed report.
    """
    if not reason.strip():
        raise ValidationFailed(errors=[{"pointer": "/reason", "detail": "A reason is required."}])
    if report.kind != "parent" or not ledger.is_open(report):
        raise Conflict(f"The report cannot be withheld (status {report.status}).")
    report = await ledger.bump(
        conn,
        report,
        status="withheld",
        hold=None,
        decided_by=principal.subject,
        decided_at=now,
        decision_reason=reason.strip()[:2000],
    )
    await ledger.note(conn, report, now, "withheld", by=principal.subject)
    await ledger.skip_open_steps(conn, report, now, "withheld")
    await _cancel_unsent(conn, report, now)
    r = m.parent_report
    siblings = (
        await conn.execute(
            sa.select(r.c.status, r.c.kind).where(
                (r.c.trust_id == report.trust_id)
                & (r.c.incident_id == report.incident_id)
                & (r.c.report_id != report.report_id)
            )
        )
    ).all()
    la_needed = all(s.status == "withheld" for s in siblings if s.kind == "parent") and not any(
        s.kind == "local_authority" for s in siblings
    )
    await ledger.emit(
        conn,
        report,
        "parent_report.withheld.v1",
        now,
        p.ParentReportWithheldV1(
            report_id=report.report_id,
            incident_id=report.incident_id,
            pupil_id=report.pupil_id,
            withheld_at=now,
            local_authority_required=la_needed,
        ),
    )
    report = await ledger.complete(conn, report, now, "withheld", "likely significant harm")
    if la_needed:
        await _require_local_authority(conn, report, now)
    return report


async def _cancel_unsent(conn: AsyncConnection, report: sa.Row, now: datetime) -> None:
    msg = m.message
    await conn.execute(
        msg.update()
        .where(
            (msg.c.trust_id == report.trust_id)
            & (msg.c.report_id == report.report_id)
            & (msg.c.status.in_(("created", "temporary-failure")))
        )
        .values(status="cancelled", updated_at=now)
    )


async def _require_local_authority(conn: AsyncConnection, parent: sa.Row, now: datetime) -> None:
    report_id = str(uuid.uuid4())
    await conn.execute(
        m.parent_report.insert().values(
            trust_id=parent.trust_id,
            report_id=report_id,
            incident_id=parent.incident_id,
            incident_revision=parent.incident_revision,
            pupil_id=parent.pupil_id,
            school_urn=parent.school_urn,
            contact_id="local-authority",
            status="queued",
            incident_occurred_at=parent.incident_occurred_at,
            local_date=parent.local_date,
            timezone=parent.timezone,
            content=parent.content,
            created_at=now,
            kind="local_authority",
            deadline_at=parent.deadline_at,
        )
    )
    la = await ledger.load(conn, parent.trust_id, report_id)
    assert la is not None
    await ledger.note(conn, la, now, "created", status="queued", reason="no parent may be told")
    policy = await cl.policy_for(conn, la.trust_id, la.school_urn)
    await steps.plan_clock(conn, la, policy, now)
    await steps.add_step(conn, la, "alert_la", now)


async def record_contact(
    conn: AsyncConnection,
    report: sa.Row,
    principal: Principal,
    now: datetime,
    *,
    method: str,
    at: datetime,
    outcome: str,
    by: str | None,
) -> sa.Row:
    """Staff record a phone call, a conversation in person, or a written report handed over."""
    if at > now:
        raise ValidationFailed(errors=[{"pointer": "/at", "detail": "Cannot be in the future."}])
    if report.kind == "local_authority":
        raise Conflict("Record the local-authority notification instead.")
    if report.status in ("withheld", "not_required"):
        raise Conflict(f"The report is {report.status}.")
    who = by or principal.subject
    await ledger.note(
        conn,
        report,
        now,
        "contact_recorded",
        method=method,
        contact_at=at.isoformat(),
        outcome=outcome,
        by=who,
        role=principal.role,
    )
    if outcome != "reached":
        return report
    if method == "written_handed_over":
        told = await ledger.mark_told(
            conn, report, told_at=at, how="letter", by=who, now=now, status="told"
        )
        return told or report
    if report.verbal_at is None:
        report = await ledger.bump(conn, report, verbal_at=at)
    return report


async def record_local_authority(
    conn: AsyncConnection,
    report: sa.Row,
    principal: Principal,
    now: datetime,
    *,
    at: datetime,
    local_authority: str,
    method: str,
) -> sa.Row:
    """The local authority where the pupil lives was told (no parent could be told safely)."""
    if report.kind != "local_authority":
        raise Conflict("This report is not a local-authority notification.")
    if at > now:
        raise ValidationFailed(errors=[{"pointer": "/at", "detail": "Cannot be in the future."}])
    await ledger.note(
        conn,
        report,
        now,
        "local_authority_notified",
        local_authority=local_authority,
        method=method,
        by=principal.subject,
    )
    told = await ledger.mark_told(
        conn,
        report,
        told_at=at,
        how="local_authority",
        by=principal.subject,
        now=now,
        status="told",
    )
    if told is None:
        raise Conflict("The local-authority notification is already recorded.")
    return told


async def resend(conn: AsyncConnection, report: sa.Row, principal: Principal, now: datetime) -> str:
    """Send the written report again (a new step: one message per recipient per step)."""
    if report.kind != "parent" or report.status not in ("queued", "sent", "told"):
        raise Conflict(f"The report cannot be resent (status {report.status}).")
    s = m.report_step
    n = await conn.scalar(
        sa.select(sa.func.count()).where(
            (s.c.trust_id == report.trust_id)
            & (s.c.report_id == report.report_id)
            & s.c.step.like("resend:%")
        )
    )
    step = f"resend:{int(n or 0) + 1}"
    await steps.add_step(conn, report, step, now)
    await ledger.note(conn, report, now, "resend_requested", step=step, by=principal.subject)
    return step
