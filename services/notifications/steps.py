"""The steps of a report's clock: what each does when it falls due.

Planned at creation (or on release): the written report and a text prompt, the next
channel after 30 minutes, the next contact after 60, the 16:30 and 18:00 alerts, the
deadline, and a missed report's daily pursuit. Each returns what it recorded; sending
happens after its transaction commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import clock as cl
from services.notifications import ledger, sending
from services.notifications import models as m

ALERT_ROLES = {
    "alert_dsl": (("dsl", "head"), "dsl"),
    "alert_trust": (("trust_lead",), "trust_lead"),
    "alert_safeguarding": (("dsl",), "hold"),
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


async def act(conn: AsyncConnection, report: sa.Row, step: str, now: datetime) -> tuple[str, int]:
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


async def resend(
    conn: AsyncConnection, report: sa.Row, step: str, now: datetime, purpose: str = "report"
) -> tuple[str, int]:
    """The written report again (a resend), or its update after a material amendment."""
    contact = await _contact(conn, report.trust_id, report.contact_id)
    if contact is None or contact.do_not_contact or not contact.email:
        return "no email address", 0
    made = await sending.add_message(
        conn,
        report,
        step=step,
        channel="email",
        purpose=purpose,
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
