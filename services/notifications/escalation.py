"""The escalation clock: each report's steps run when due, found by arq and by the sweeper.

A step is a row in ``report_step`` with its due time. arq holds a deferred wake-up per step
(``notifications.wake``), which re-reads the database against the clock; the sweeper reads
the same table every minute, so a step whose wake-up was lost (Redis flushed) still runs
within a minute of its time. A step is claimed in the transaction that records its
messages, so it runs once however many wake-ups arrive.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import ledger, sending
from services.notifications import models as m
from services.notifications.providers.base import UNKNOWN, Provider, SendResult
from services.notifications.steps import (
    ALERT_ROLES,
    act,
    resend,
)
from shared.bus.subscriptions import queue_name
from shared.clock import utcnow
from shared.events import payloads as p
from shared.runtime import ServiceContext

log = logging.getLogger("candour.notifications")
WAKE_JOB = "notifications.wake"
STALE_SUBMIT = timedelta(minutes=5)
LEVELS = {"fallback": "fallback", "next_contact": "next_contact", "deadline": "deadline"}


PARENT_STEPS = ("initial", "initial_sms", "fallback", "next_contact")


async def _telling(conn: AsyncConnection, report: sa.Row, now: datetime) -> bool:
    """A step to the parent is due or running, or a message to them is not yet handed to
    the provider."""
    s, msg = m.report_step, m.message
    mine = (s.c.trust_id == report.trust_id) & (s.c.report_id == report.report_id)
    step = await conn.scalar(
        sa.select(sa.literal(1)).where(
            mine
            & s.c.step.in_(PARENT_STEPS)
            & s.c.status.in_(("due", "running"))
            & (s.c.due_at <= now)
        )
    )
    if step:
        return True
    message = await conn.scalar(
        sa.select(sa.literal(1)).where(
            (msg.c.trust_id == report.trust_id)
            & (msg.c.report_id == report.report_id)
            & (msg.c.recipient_kind == "parent")
            & msg.c.status.in_(("created", sending.SUBMITTING))
        )
    )
    return bool(message)


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
        again = kind in ("resend", "amend") and report.status not in ("withheld", "not_required")
        if not ledger.is_open(report) and not again:
            outcome, made = "skipped", 0
        elif kind == "resend":
            outcome, made = await resend(conn, report, step, now)
        elif kind == "amend" and report.hold:
            outcome, made = "skipped", 0  # the release sends the amended record
        elif kind == "amend":
            outcome, made = await resend(conn, report, step, now, purpose="update")
        elif report.hold and kind in ("initial", "initial_sms", "fallback", "next_contact"):
            outcome, made = "skipped", 0  # replanned on release
        elif kind in ("alert_dsl", "alert_trust") and report.verbal_at is not None:
            outcome, made = "skipped", 0  # staff have already spoken to the parent
        elif kind in ("alert_dsl", "alert_trust") and await _telling(conn, report, now):
            # The parent is being told this moment (a record entered late has every step
            # due at once, and another worker may have the parent's): staff are alerted
            # only if that fails, on a later pass.
            outcome, made = "later", 0
        else:
            outcome, made = await act(conn, report, step, now)
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
        # A record entered late has all its steps due at once: the parent first, then staff.
        for t, r, step in sorted(due, key=lambda d: d[2] != "initial"):
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
        # Accepted but no receipt yet (a lost callback): ask the provider now and then.
        waiting = (
            await conn.execute(
                sa.select(msg.c.trust_id, msg.c.message_id).where(
                    (msg.c.status == "sending") & (msg.c.updated_at <= now - STALE_SUBMIT)
                )
            )
        ).all()
    for trust_id, message_id in retry:
        if await sending.dispatch(ctx, provider, trust_id, message_id, ctx.settings.mail_from):
            ran += 1
    for trust_id, message_id in stale:
        await reconcile(ctx, provider, trust_id, message_id)
        ran += 1
    for trust_id, message_id in waiting:
        ran += await _poll(ctx, provider, trust_id, message_id)
    return ran


async def _poll(ctx: ServiceContext, provider: Provider, trust_id: str, message_id: str) -> int:
    found = await provider.lookup(message_id)
    if found is not None and found.status != "sending":
        await sending.record_result(ctx, trust_id, message_id, found, provider.name)
        return 1
    msg = m.message
    async with ctx.db.transaction() as conn:  # asked: not again for a while
        await conn.execute(
            msg.update()
            .where(
                (msg.c.trust_id == trust_id)
                & (msg.c.message_id == message_id)
                & (msg.c.status == "sending")
            )
            .values(updated_at=ctx.clock.now())
        )
    return 0


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
