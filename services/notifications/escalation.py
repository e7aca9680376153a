"""The escalation clock: each report's steps, run when due, found by arq and by the sweeper.

A step is a row in ``report_step`` with its due time. arq holds a deferred wake-up per step
(``notifications.wake``), which re-reads the database against the clock; the sweeper reads
the same table every minute, so a step whose wake-up was lost (Redis flushed) still runs
within a minute of its time. A step is claimed in the transaction that records its
messages, so it runs once however many wake-ups arrive.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import clock as cl
from services.notifications import ledger, sending
from services.notifications import models as m
from services.notifications.providers.base import UNKNOWN, Provider, SendResult
from shared.bus.subscriptions import queue_name
from shared.clock import utcnow
from shared.events import payloads as p
from shared.runtime import ServiceContext

log = logging.getLogger("candour.notifications")
WAKE_JOB = "notifications.wake"
STALE_SUBMIT = timedelta(minutes=5)
ALERT_ROLES = {
    "alert_dsl": (("dsl", "head"), "dsl"),
    "alert_trust": (("trust_lead",), "trust_lead"),
    "alert_hold": (("dsl",), "hold"),
    "alert_approval": (("head", "dsl"), "hold"),
    "alert_la": (("dsl",), "dsl"),
    "unknown": (("dsl", "head"), "unknown"),
    "pursue": (("dsl", "head"), "pursue"),
}


async def add_step(conn: AsyncConnection, report: sa.Row, step: str, due_at: datetime) -> None:
    """Plan a step (a step already planned keeps the earlier of the two times)."""
    s = m.report_step
    key = (
        (s.c.trust_id == report.trust_id) & (s.c.report_id == report.report_id) & (s.c.step == step)
    )
    row = (await conn.execute(sa.select(s.c.status, s.c.due_at).where(key))).first()
    if row is None:
        await conn.execute(
            s.insert().values(
                trust_id=report.trust_id,
                report_id=report.report_id,
                step=step,
                school_urn=report.school_urn,
                due_at=due_at,
                status="due",
            )
        )
    elif row.status == "due" and due_at < row.due_at:
        await conn.execute(s.update().where(key).values(due_at=due_at))


async def plan_clock(
    conn: AsyncConnection, report: sa.Row, policy: cl.Policy, now: datetime
) -> None:
    """The day's alerts and deadline: 16:30 DSL and head, 18:00 trust lead, midnight missed."""
    day = datetime.fromisoformat(report.local_date).date()
    zone = report.timezone
    await add_step(
        conn, report, "alert_dsl", cl.not_before(cl.at_local(day, policy.dsl_alert_time, zone), now)
    )
    await add_step(
        conn,
        report,
        "alert_trust",
        cl.not_before(cl.at_local(day, policy.trust_alert_time, zone), now),
    )
    await add_step(conn, report, "deadline", cl.end_of_day(day, zone))


async def plan_sending(
    conn: AsyncConnection, report: sa.Row, policy: cl.Policy, start: datetime
) -> None:
    """From ``start``: the written report now, then the next channel, then the next contact."""
    wait = timedelta(minutes=policy.fallback_minutes)
    await add_step(conn, report, "initial", start)
    await add_step(conn, report, "fallback", start + wait)
    await add_step(conn, report, "next_contact", start + 2 * wait)


async def _contact(conn: AsyncConnection, trust_id: str, contact_id: str) -> sa.Row | None:
    c = m.contact
    return (
        await conn.execute(
            sa.select(c).where((c.c.trust_id == trust_id) & (c.c.contact_id == contact_id))
        )
    ).first()


async def _staff(conn: AsyncConnection, report: sa.Row, roles: tuple[str, ...]) -> list[sa.Row]:
    e = m.escalation_contact
    return list(
        (
            await conn.execute(
                sa.select(e)
                .where(
                    (e.c.trust_id == report.trust_id)
                    & e.c.school_urn.in_([report.school_urn, cl.TRUST_WIDE])
                    & e.c.role.in_(roles)
                    & e.c.active
                )
                .order_by(e.c.role, e.c.staff_id)
            )
        ).all()
    )


async def _sms_due(
    conn: AsyncConnection, report: sa.Row, step: str, now: datetime
) -> datetime | None:
    """When a text may go; if later than now, the step is moved there (quiet hours)."""
    policy = await cl.policy_for(conn, report.trust_id, report.school_urn)
    allowed = cl.outside_quiet_hours(now, report.timezone, policy)
    if allowed > now:
        s = m.report_step
        await conn.execute(
            s.update()
            .where(
                (s.c.trust_id == report.trust_id)
                & (s.c.report_id == report.report_id)
                & (s.c.step == step)
            )
            .values(due_at=allowed)
        )
        return allowed
    return None


async def _act(conn: AsyncConnection, report: sa.Row, step: str, now: datetime) -> tuple[str, int]:
    """Do one due step; returns (outcome, people messaged). 'later' leaves it due."""
    kind = step.split(":", 1)[0]
    made = 0

    async def msg(channel: str, purpose: str, rkind: str, ref: str, address: str) -> None:
        nonlocal made
        if await sending.add_message(
            conn,
            report,
            step=step,
            channel=channel,
            purpose=purpose,
            recipient_kind=rkind,
            recipient_ref=ref,
            address=address,
            now=now,
        ):
            made += 1

    if kind in ("initial", "initial_sms", "fallback", "next_contact"):
        contact = await _contact(conn, report.trust_id, report.contact_id)
        if contact is None or contact.do_not_contact:
            return "no contact", 0
        if kind == "initial":
            if contact.email:
                await msg("email", "report", "parent", contact.contact_id, contact.email)
            if contact.mobile:
                policy = await cl.policy_for(conn, report.trust_id, report.school_urn)
                allowed = cl.outside_quiet_hours(now, report.timezone, policy)
                if allowed > now:
                    await add_step(conn, report, "initial_sms", allowed)
                else:
                    purpose = "prompt" if contact.email else "call_us"
                    await msg("sms", purpose, "parent", contact.contact_id, contact.mobile)
        elif kind == "initial_sms" and contact.mobile:
            if await _sms_due(conn, report, step, now):
                return "later", 0
            await msg(
                "sms",
                "prompt" if contact.email else "call_us",
                "parent",
                contact.contact_id,
                contact.mobile,
            )
        elif kind == "fallback" and contact.mobile:
            if await _sms_due(conn, report, step, now):
                return "later", 0
            await msg("sms", "call_us", "parent", contact.contact_id, contact.mobile)
        elif kind == "next_contact":
            other = await _next_contact(conn, report, contact)
            if other is not None:
                if other.mobile:
                    if await _sms_due(conn, report, step, now):
                        return "later", 0
                    await msg("sms", "next_contact", "parent", other.contact_id, other.mobile)
                elif other.email:
                    await msg("email", "next_contact", "parent", other.contact_id, other.email)
        return ("done" if made else "nothing to send"), made
    if kind == "deadline":
        if report.standard is None:
            await ledger.mark_missed(conn, report, now)
        tomorrow = datetime.fromisoformat(report.local_date).date() + timedelta(days=1)
        await _plan_pursuit(conn, report, tomorrow)
        return "missed", 0
    if kind == "pursue":
        day = datetime.fromisoformat(step.split(":", 1)[1]).date()
        await _plan_pursuit(conn, report, day + timedelta(days=1))
    roles, _ = ALERT_ROLES.get(kind, (("dsl",), "dsl"))
    for staff in await _staff(conn, report, roles):
        ref = f"{staff.role}:{staff.staff_id}"
        if staff.email:
            await msg("email", kind, "staff", ref, staff.email)
        elif staff.mobile:
            await msg("sms", kind, "staff", ref, staff.mobile)
    return ("alerted" if made else "no escalation contact on record"), made


async def _resend(
    conn: AsyncConnection, report: sa.Row, step: str, now: datetime
) -> tuple[str, int]:
    contact = await _contact(conn, report.trust_id, report.contact_id)
    if contact is None or contact.do_not_contact or not contact.email:
        return "no email address", 0
    made = await sending.add_message(
        conn,
        report,
        step=step,
        channel="email",
        purpose="report",
        recipient_kind="parent",
        recipient_ref=contact.contact_id,
        address=contact.email,
        now=now,
    )
    return ("done" if made else "already sent"), int(bool(made))


async def _plan_pursuit(conn: AsyncConnection, report: sa.Row, day: Any) -> None:
    policy = await cl.policy_for(conn, report.trust_id, report.school_urn)
    await add_step(
        conn,
        report,
        f"pursue:{day.isoformat()}",
        cl.at_local(day, policy.pursue_time, report.timezone),
    )


async def _next_contact(conn: AsyncConnection, report: sa.Row, contact: sa.Row) -> sa.Row | None:
    c = m.contact
    return (
        await conn.execute(
            sa.select(c)
            .where(
                (c.c.trust_id == report.trust_id)
                & (c.c.pupil_id == report.pupil_id)
                & (c.c.contact_id != contact.contact_id)
                & ~c.c.do_not_contact
                & ((c.c.mobile.is_not(None)) | (c.c.email.is_not(None)))
            )
            .order_by(c.c.priority, c.c.contact_id)
            .limit(1)
        )
    ).first()


LEVELS = {"fallback": "fallback", "next_contact": "next_contact", "deadline": "deadline"}


async def run_step(
    ctx: ServiceContext, provider: Provider, trust_id: str, report_id: str, step: str
) -> str | None:
    """Run one step if it is due and still pending; send what it recorded."""
    s = m.report_step
    key = (s.c.trust_id == trust_id) & (s.c.report_id == report_id) & (s.c.step == step)
    now = ctx.clock.now()
    async with ctx.db.transaction() as conn:
        row = (await conn.execute(sa.select(s).where(key))).first()
        if row is None or row.status != "due" or row.due_at > now:
            return None
        claimed = await conn.execute(
            s.update().where(key & (s.c.status == "due")).values(status="running")
        )
        if claimed.rowcount != 1:
            return None
        report = await ledger.load(conn, trust_id, report_id)
        assert report is not None
        kind = step.split(":", 1)[0]
        if not ledger.is_open(report) and not (kind == "resend" and report.status != "withheld"):
            outcome, made = "skipped", 0
        elif kind == "resend":
            outcome, made = await _resend(conn, report, step, now)
        elif report.hold and kind in ("initial", "initial_sms", "fallback", "next_contact"):
            outcome, made = "skipped", 0  # replanned on release
        elif kind in ("alert_dsl", "alert_trust") and report.verbal_at is not None:
            outcome, made = "skipped", 0  # staff have already spoken to the parent
        else:
            outcome, made = await _act(conn, report, step, now)
        if outcome == "later":
            await conn.execute(s.update().where(key).values(status="due"))
        else:
            await conn.execute(
                s.update()
                .where(key)
                .values(
                    status="skipped" if outcome == "skipped" else "done",
                    done_at=now,
                    detail=outcome,
                )
            )
            await ledger.note(
                conn,
                report,
                now,
                f"step_{kind}",
                step=step,
                outcome=outcome,
                due_at=row.due_at.isoformat(),
                notified=made,
            )
            level = LEVELS.get(kind) or ALERT_ROLES.get(kind, ((), ""))[1]
            if level and outcome != "skipped":
                await ledger.emit(
                    conn,
                    report,
                    "parent_report.escalated.v1",
                    now,
                    p.ParentReportEscalatedV1(
                        report_id=report_id,
                        incident_id=report.incident_id,
                        pupil_id=report.pupil_id,
                        level=level,  # type: ignore[arg-type]
                        escalated_at=now,
                        due_at=row.due_at,
                        notified=made,
                    ),
                )
    await send_created(ctx, provider, trust_id, report_id)
    return outcome


async def send_created(
    ctx: ServiceContext, provider: Provider, trust_id: str, report_id: str
) -> None:
    """Hand every recorded, never-sent message of a report to the provider."""
    msg = m.message
    async with ctx.db.engine.connect() as conn:
        ids = (
            await conn.scalars(
                sa.select(msg.c.message_id)
                .where(
                    (msg.c.trust_id == trust_id)
                    & (msg.c.report_id == report_id)
                    & (msg.c.status == "created")
                )
                .order_by(msg.c.created_at, msg.c.channel)
            )
        ).all()
    for message_id in ids:
        await sending.dispatch(ctx, provider, trust_id, message_id, ctx.settings.mail_from)


async def run_due(
    ctx: ServiceContext,
    provider: Provider,
    trust_id: str | None = None,
    report_id: str | None = None,
    limit: int = 500,
) -> int:
    """Run every due step (of one report, or of all); returns how many ran."""
    s = m.report_step
    cond = (s.c.status == "due") & (s.c.due_at <= ctx.clock.now())
    if trust_id and report_id:
        cond = cond & (s.c.trust_id == trust_id) & (s.c.report_id == report_id)
    ran = 0
    touched: set[tuple[str, str]] = set()
    for _ in range(10):  # a step may make another due at once (a bounce -> the fallback)
        async with ctx.db.engine.connect() as conn:
            due = (
                await conn.execute(
                    sa.select(s.c.trust_id, s.c.report_id, s.c.step)
                    .where(cond)
                    .order_by(s.c.due_at, s.c.step)
                    .limit(limit)
                )
            ).all()
        if not due:
            break
        for t, r, step in due:
            if await run_step(ctx, provider, t, r, step) is not None:
                ran += 1
                touched.add((t, r))
    for t, r in sorted(touched):
        await schedule_report(ctx, t, r)  # steps planned or moved by what ran
    return ran


async def sweep(ctx: ServiceContext, provider: Provider) -> int:
    """The sweeper's pass: due steps, unsent and retryable messages, stale hand-overs."""
    ran = await run_due(ctx, provider)
    msg = m.message
    now = ctx.clock.now()
    async with ctx.db.engine.connect() as conn:
        retry = (
            await conn.execute(
                sa.select(msg.c.trust_id, msg.c.message_id).where(
                    (msg.c.status == "created")
                    | ((msg.c.status == "temporary-failure") & (msg.c.next_attempt_at <= now))
                )
            )
        ).all()
        stale = (
            await conn.execute(
                sa.select(msg.c.trust_id, msg.c.message_id).where(
                    (msg.c.status == sending.SUBMITTING) & (msg.c.updated_at <= now - STALE_SUBMIT)
                )
            )
        ).all()
    for trust_id, message_id in retry:
        if await sending.dispatch(ctx, provider, trust_id, message_id, ctx.settings.mail_from):
            ran += 1
    for trust_id, message_id in stale:
        await reconcile(ctx, provider, trust_id, message_id)
        ran += 1
    return ran


async def reconcile(ctx: ServiceContext, provider: Provider, trust_id: str, message_id: str) -> str:
    """A hand-over interrupted by a crash: ask the provider by reference, else ``unknown``."""
    found = await provider.lookup(message_id)
    result = found or SendResult(message_id, UNKNOWN, error="outcome unknown after a crash")
    status = await sending.record_result(ctx, trust_id, message_id, result, provider.name)
    async with ctx.db.engine.connect() as conn:
        report_id = await conn.scalar(
            sa.select(m.message.c.report_id).where(
                (m.message.c.trust_id == trust_id) & (m.message.c.message_id == message_id)
            )
        )
    if report_id:
        await run_due(ctx, provider, trust_id, report_id)
    return status


async def schedule_report(ctx: ServiceContext, trust_id: str, report_id: str) -> int:
    """Enqueue an arq wake-up at each due step's time (without Redis the sweeper finds them)."""
    if ctx.redis is None:
        return 0
    s = m.report_step
    async with ctx.db.engine.connect() as conn:
        steps = (
            await conn.execute(
                sa.select(s.c.step, s.c.due_at).where(
                    (s.c.trust_id == trust_id)
                    & (s.c.report_id == report_id)
                    & (s.c.status == "due")
                )
            )
        ).all()
    n = 0
    for step, due_at in steps:
        try:
            await ctx.redis.enqueue_job(
                WAKE_JOB,
                trust_id,
                report_id,
                _job_id=f"{WAKE_JOB}:{trust_id}:{report_id}:{step}:{int(due_at.timestamp())}",
                _defer_until=due_at,
                # Redis keeps real time: a wake-up due in the (injected clock's) past
                # still needs a positive lifetime, or arq drops the job's body.
                _expires=timedelta(days=1) + max(timedelta(0), due_at - utcnow()),
                _queue_name=queue_name("notifications"),
            )
            n += 1
        except Exception as exc:  # Redis down: the sweeper still finds the step
            log.warning("could not schedule a wake-up", extra={"error": type(exc).__name__})
            return n
    return n
