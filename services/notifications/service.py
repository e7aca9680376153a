"""Use cases of the notifications service: parent reports from incident events, and sending them."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import models as m
from services.notifications import rendering
from services.notifications.providers import Provider, SendResult
from shared.auth.revocation import CLIENT_REVOKED, apply_client_revoked
from shared.bus.base import Handler
from shared.events.envelope import EventEnvelope
from shared.events.payloads import IncidentSubmittedV1, ParentReportSentV1
from shared.logging import mask_email, mask_phone
from shared.outbox.inbox import consume_once
from shared.outbox.writer import record_event
from shared.runtime import ServiceContext

log = logging.getLogger("candour.notifications")
CONSUMER = "notifications"
MAIL_FROM = "no-reply@candour.local"
ADULT_AGE = 20  # DOMAIN §1: no parent report is required for a pupil aged 20 or over


async def apply_incident_submitted(
    conn: AsyncConnection, envelope: EventEnvelope, ctx: ServiceContext
) -> list[str]:
    """One queued parent report per contact with parental responsibility who may be told."""
    event = IncidentSubmittedV1.model_validate(envelope.payload)
    facts = event.incident
    if facts.historic or not facts.significant:
        return []
    if event.pupil.age_years is not None and event.pupil.age_years >= ADULT_AGE:
        return []
    c = m.contact
    contacts = (
        await conn.execute(
            sa.select(c)
            .where(
                (c.c.trust_id == envelope.trust_id)
                & (c.c.pupil_id == event.pupil.pupil_id)
                & c.c.parental_responsibility
                & ~c.c.do_not_contact
            )
            .order_by(c.c.priority, c.c.contact_id)
        )
    ).all()
    content: dict[str, Any] = {
        "pupil_name": event.report.pupil_name,
        "summary": event.report.summary,
        "school_name": event.school.name,
        "school_phone": event.school.phone,
        "school_email": event.school.email,
        "timezone": event.school.timezone,
        "occurred_at": facts.occurred_at.isoformat(),
        "ended_at": facts.ended_at.isoformat() if facts.ended_at else None,
        "duration_minutes": facts.duration_minutes,
        "intervention_type": facts.intervention_type,
    }
    now = ctx.clock.now()
    created = []
    for contact in contacts:
        report_id = str(uuid.uuid4())
        await conn.execute(
            m.parent_report.insert().values(
                trust_id=envelope.trust_id,
                report_id=report_id,
                incident_id=facts.incident_id,
                incident_revision=facts.revision,
                pupil_id=event.pupil.pupil_id,
                school_urn=event.school.urn,
                contact_id=contact.contact_id,
                status="queued",
                incident_occurred_at=facts.occurred_at,
                local_date=facts.local_date,
                timezone=event.school.timezone,
                content=content,
                created_at=now,
            )
        )
        created.append(report_id)
    return created


async def _claim(ctx: ServiceContext, trust_id: str, report_id: str) -> list[dict[str, Any]]:
    """Mark a queued report as sending and record each message before any provider call."""
    r, c = m.parent_report, m.contact
    async with ctx.db.transaction() as conn:
        row = (
            await conn.execute(
                sa.select(r, c.c.name, c.c.email, c.c.mobile)
                .join(c, (c.c.trust_id == r.c.trust_id) & (c.c.contact_id == r.c.contact_id))
                .where(
                    (r.c.trust_id == trust_id)
                    & (r.c.report_id == report_id)
                    & (r.c.status == "queued")
                )
            )
        ).first()
        if row is None:
            return []  # another worker has it, or it is done
        claimed = await conn.execute(
            r.update()
            .where(
                (r.c.trust_id == trust_id) & (r.c.report_id == report_id) & (r.c.status == "queued")
            )
            .values(status="sending")
        )
        if claimed.rowcount != 1:
            return []
        now = ctx.clock.now()
        planned = []
        if row.email:
            planned.append(("email", row.email, mask_email(row.email)))
        if row.mobile:
            planned.append(("sms", row.mobile, mask_phone(row.mobile)))
        messages = []
        for channel, to, masked in planned:
            message_id = str(uuid.uuid4())
            await conn.execute(
                m.message.insert().values(
                    trust_id=trust_id,
                    message_id=message_id,
                    report_id=report_id,
                    channel=channel,
                    provider="pending",
                    recipient_masked=masked,
                    status="created",
                    created_at=now,
                    updated_at=now,
                )
            )
            messages.append(
                {
                    "message_id": message_id,
                    "channel": channel,
                    "to": to,
                    "contact_name": row.name,
                    "content": row.content,
                    "row": row,
                }
            )
        return messages


async def send_report(
    ctx: ServiceContext, provider: Provider, trust_id: str, report_id: str
) -> bool:
    """Send one queued parent report through ``provider``; emit ``parent_report.sent.v1``."""
    messages = await _claim(ctx, trust_id, report_id)
    if not messages:
        return False
    results: list[tuple[dict[str, Any], SendResult]] = []
    for msg in messages:
        variables = rendering.report_variables(msg["content"], msg["contact_name"])
        at = ctx.clock.now()
        if msg["channel"] == "email":
            email = rendering.build_email(
                sender=MAIL_FROM,
                sender_name=msg["content"]["school_name"],
                to=msg["to"],
                variables=variables,
                message_id=msg["message_id"],
            )
            result = await provider.send_email(msg["message_id"], email, at)
        else:
            result = await provider.send_sms(
                msg["message_id"], msg["to"], rendering.build_sms(variables), at
            )
        results.append((msg, result))
    row = messages[0]["row"]
    async with ctx.db.transaction() as conn:
        now = ctx.clock.now()
        for msg, result in results:
            await conn.execute(
                m.message.update()
                .where(
                    (m.message.c.trust_id == trust_id)
                    & (m.message.c.message_id == msg["message_id"])
                )
                .values(
                    provider=provider.name,
                    provider_ref=result.provider_ref,
                    status=result.status,
                    sent_at=now,
                    delivered_at=result.delivered_at,
                    updated_at=now,
                )
            )
        await conn.execute(
            m.parent_report.update()
            .where(
                (m.parent_report.c.trust_id == trust_id)
                & (m.parent_report.c.report_id == report_id)
            )
            .values(status="sent", sent_at=now)
        )
        channel = "email" if any(mm["channel"] == "email" for mm, _ in results) else "sms"
        await record_event(
            conn,
            m.outbox,
            type="parent_report.sent.v1",
            trust_id=trust_id,
            school_urn=row.school_urn,
            subject_id=report_id,
            subject_revision=1,
            occurred_at=now,
            payload=ParentReportSentV1(
                report_id=report_id,
                incident_id=row.incident_id,
                pupil_id=row.pupil_id,
                channel=channel,  # type: ignore[arg-type]
                provider=provider.name,
                sent_at=now,
                incident_occurred_at=row.incident_occurred_at,
            ),
        )
    log.info("parent report sent", extra={"report_id": report_id, "messages": len(results)})
    return True


async def send_due(ctx: ServiceContext, provider: Provider, limit: int = 100) -> int:
    """The sweeper's pass: send every queued report (the database, not Redis, is the truth)."""
    r = m.parent_report
    async with ctx.db.engine.connect() as conn:
        due = (
            await conn.execute(
                sa.select(r.c.trust_id, r.c.report_id)
                .where(r.c.status == "queued")
                .order_by(r.c.created_at)
                .limit(limit)
            )
        ).all()
    sent = 0
    for trust_id, report_id in due:
        if await send_report(ctx, provider, trust_id, report_id):
            sent += 1
    return sent


def make_consumer(ctx: ServiceContext, provider: Provider) -> Handler:
    """The notifications consumer: inbox-guarded report creation, then an attempt to send."""

    async def handle(envelope: EventEnvelope) -> bool:
        created: list[str] = []

        async def apply(conn: AsyncConnection, env: EventEnvelope) -> None:
            if env.type == "incident.submitted.v1":
                created.extend(await apply_incident_submitted(conn, env, ctx))
            elif env.type == CLIENT_REVOKED:
                await apply_client_revoked(conn, env, m.revoked_client)

        applied = await consume_once(ctx.db, m.inbox, CONSUMER, envelope, apply, ctx.clock)
        for report_id in created:
            try:
                await send_report(ctx, provider, envelope.trust_id, report_id)
            except Exception:
                # The report stays queued; the sweeper sends it on its next pass.
                log.exception("send failed; left for the sweeper", extra={"report_id": report_id})
        return applied

    return handle
