"""Messages: recorded before any provider call, handed over once, their outcome kept.

A message row is ``created`` in the step's transaction; it turns ``submitting`` in its own
commit just before the provider is called. So a ``created`` row was never handed over (it
may be sent), and a ``submitting`` row left behind by a crash is looked up by its reference,
or marked ``unknown`` and escalated: never blindly sent again.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import ledger, links, rendering
from services.notifications import models as m
from services.notifications.providers.base import (
    DELIVERED,
    PERMANENT,
    TECHNICAL,
    TEMPORARY,
    UNKNOWN,
    Provider,
    SendResult,
)
from shared.events import payloads as p
from shared.logging import mask_email, mask_phone
from shared.runtime import ServiceContext

log = logging.getLogger("candour.notifications")
MAX_ATTEMPTS = 5
SUBMITTING = "submitting"  # handed to the provider, answer not yet stored
FAILED = frozenset({PERMANENT, TECHNICAL, UNKNOWN})


async def add_message(
    conn: AsyncConnection,
    report: sa.Row,
    *,
    step: str,
    channel: str,
    purpose: str,
    recipient_kind: str,
    recipient_ref: str,
    address: str,
    now: datetime,
) -> str | None:
    """Record one message for a step (None if that step already has it: exactly once)."""
    msg = m.message
    exists = await conn.scalar(
        sa.select(msg.c.message_id).where(
            (msg.c.trust_id == report.trust_id)
            & (msg.c.report_id == report.report_id)
            & (msg.c.step == step)
            & (msg.c.channel == channel)
            & (msg.c.recipient_ref == recipient_ref)
        )
    )
    if exists:
        return None
    message_id = str(uuid.uuid4())
    masked = mask_email(address) if channel == "email" else mask_phone(address)
    await conn.execute(
        msg.insert().values(
            trust_id=report.trust_id,
            message_id=message_id,
            report_id=report.report_id,
            channel=channel,
            provider="pending",
            recipient_masked=masked,
            status="created",
            created_at=now,
            updated_at=now,
            step=step,
            purpose=purpose,
            recipient_kind=recipient_kind,
            recipient_ref=recipient_ref,
        )
    )
    await ledger.note(
        conn,
        report,
        now,
        "message_created",
        message_id=message_id,
        step=step,
        channel=channel,
        to=masked,
        purpose=purpose,
    )
    return message_id


async def _address(conn: AsyncConnection, report: sa.Row, row: sa.Row) -> tuple[str | None, str]:
    """The unmasked address and the addressee's name, read fresh at send time."""
    if row.recipient_kind == "parent":
        c = m.contact
        contact = (
            await conn.execute(
                sa.select(c).where(
                    (c.c.trust_id == row.trust_id) & (c.c.contact_id == row.recipient_ref)
                )
            )
        ).first()
        if contact is None:
            return None, ""
        return (contact.email if row.channel == "email" else contact.mobile), contact.name
    e = m.escalation_contact
    role, _, staff_id = row.recipient_ref.partition(":")
    staff = (
        await conn.execute(
            sa.select(e).where(
                (e.c.trust_id == row.trust_id) & (e.c.role == role) & (e.c.staff_id == staff_id)
            )
        )
    ).first()
    if staff is None:
        return None, ""
    return (staff.email if row.channel == "email" else staff.mobile), staff.name


async def _language(conn: AsyncConnection, row: sa.Row) -> str | None:
    """The language a parent contact asked for (its primary subtag), None for English or
    anyone else."""
    if row.recipient_kind != "parent":
        return None
    c = m.contact
    language = await conn.scalar(
        sa.select(c.c.language).where(
            (c.c.trust_id == row.trust_id) & (c.c.contact_id == row.recipient_ref)
        )
    )
    primary = str(language or "en").split("-")[0].lower()
    return None if primary == "en" else primary


async def _templates(
    conn: AsyncConnection, report: sa.Row, language: str | None = None
) -> dict[str, str]:
    """The trust's templates with the school's adaptations over them; for a parent who asked
    for another language, that language's versions (``parent_report.cy.txt.j2``: the
    trust's, then the school's) over those. What has no version in their language stays
    as it is."""
    t = m.report_template
    rows = (
        await conn.execute(
            sa.select(t.c.school_urn, t.c.name, t.c.source).where(
                (t.c.trust_id == report.trust_id) & t.c.school_urn.in_(["*", report.school_urn])
            )
        )
    ).all()
    out: dict[str, str] = {}
    # English first, the chosen language last; within each, the school's after the trust's.
    for lang in (None, language) if language else (None,):
        for r in sorted(rows, key=lambda r: r.school_urn != "*"):
            base, found = rendering.template_language(r.name)
            if found == lang:
                out[base] = r.source
    return out


async def dispatch(
    ctx: ServiceContext, provider: Provider, trust_id: str, message_id: str, mail_from: str
) -> str | None:
    """Hand one ``created`` (or retryable) message to the provider; return its new status."""
    msg = m.message
    key = (msg.c.trust_id == trust_id) & (msg.c.message_id == message_id)
    async with ctx.db.transaction() as conn:
        row = (await conn.execute(sa.select(msg).where(key))).first()
        if row is None or row.status not in ("created", TEMPORARY):
            return None
        claimed = await conn.execute(
            msg.update()
            .where(key & (msg.c.status == row.status) & (msg.c.attempts == row.attempts))
            .values(status=SUBMITTING, attempts=row.attempts + 1, updated_at=ctx.clock.now())
        )
        if claimed.rowcount != 1:
            return None  # another worker has it
        report = await ledger.load(conn, trust_id, row.report_id)
        assert report is not None
        to, name = await _address(conn, report, row)
        overrides = await _templates(conn, report, await _language(conn, row))
    at = ctx.clock.now()
    variables = rendering.message_variables(report, row, name)
    if row.purpose in ("report", "update") and row.recipient_kind == "parent":
        expires = at + timedelta(days=ctx.settings.read_link_days)
        variables["read_link"] = links.read_link(ctx.settings, trust_id, message_id, expires)
    if not to:
        result = SendResult(message_id, PERMANENT, error="no address on record")
    else:
        try:
            result = await _send(provider, report, row, to, variables, overrides, mail_from, at)
        except Exception as exc:  # a provider fault must not leave the row 'sending' silently
            log.warning("provider raised", extra={"message_id": message_id, "error": repr(exc)})
            result = SendResult(message_id, UNKNOWN, error=type(exc).__name__)
    log.info(
        "message handed to provider",
        extra={
            "report_id": row.report_id,
            "message_id": message_id,
            "channel": row.channel,
            "purpose": row.purpose,
            "status": result.status,
        },
    )
    return await record_result(ctx, trust_id, message_id, result, provider.name)


async def _send(
    provider: Provider,
    report: sa.Row,
    row: sa.Row,
    to: str,
    variables: dict[str, Any],
    overrides: dict[str, str],
    mail_from: str,
    at: datetime,
) -> SendResult:
    if row.channel == "email":
        email = rendering.build_message_email(
            overrides=overrides,
            purpose=row.purpose,
            sender=mail_from,
            sender_name=report.content["school_name"],
            to=to,
            variables=variables,
            message_id=row.message_id,
        )
        return await provider.send_email(row.message_id, email, at)
    return await provider.send_sms(
        row.message_id, to, rendering.build_text(row.purpose, variables, overrides), at
    )


async def record_result(
    ctx: ServiceContext, trust_id: str, message_id: str, result: SendResult, provider_name: str
) -> str:
    """Store a provider's answer (a send, a lookup or a callback) and what follows from it."""
    msg = m.message
    key = (msg.c.trust_id == trust_id) & (msg.c.message_id == message_id)
    now = ctx.clock.now()
    async with ctx.db.transaction() as conn:
        row = (await conn.execute(sa.select(msg).where(key))).first()
        assert row is not None
        if row.status in (DELIVERED, PERMANENT, TECHNICAL):
            return str(row.status)  # final already: a repeated callback changes nothing
        # A provider's own "created" means accepted; ours means never handed over.
        status = "sending" if result.status == "created" else result.status
        values: dict[str, Any] = {
            "provider": provider_name,
            "provider_ref": result.provider_ref,
            "updated_at": now,
            "error": result.error,
        }
        if status == TEMPORARY:
            if row.attempts >= MAX_ATTEMPTS:
                status = TECHNICAL  # retries are bounded
            else:
                values["next_attempt_at"] = now + timedelta(minutes=2**row.attempts)
        values["status"] = status
        if row.sent_at is None and status not in (TEMPORARY,):
            values["sent_at"] = now
        if status == DELIVERED:
            values["delivered_at"] = result.delivered_at or now
        await conn.execute(msg.update().where(key).values(**values))
        report = await ledger.load(conn, trust_id, row.report_id)
        assert report is not None
        await ledger.note(
            conn,
            report,
            now,
            f"message_{status}".replace("-", "_"),
            message_id=message_id,
            channel=row.channel,
            step=row.step,
            provider=provider_name,
        )
        if row.recipient_kind == "parent":
            await _parent_outcome(conn, report, row, status, values, provider_name, now)
    return status


async def _parent_outcome(
    conn: AsyncConnection,
    report: sa.Row,
    row: sa.Row,
    status: str,
    values: dict[str, Any],
    provider_name: str,
    now: datetime,
) -> None:
    base = {
        "report_id": report.report_id,
        "incident_id": report.incident_id,
        "pupil_id": report.pupil_id,
        "channel": row.channel,
        "provider": provider_name,
    }
    if (
        status in ("sending", DELIVERED)
        and report.sent_at is None
        and row.purpose != "next_contact"
    ):
        report = await ledger.bump(
            conn, report, sent_at=now, status="sent" if report.status == "queued" else report.status
        )
        await ledger.emit(
            conn,
            report,
            "parent_report.sent.v1",
            now,
            p.ParentReportSentV1(
                **base, sent_at=now, incident_occurred_at=report.incident_occurred_at
            ),
        )
    if status == DELIVERED:
        delivered_at = values["delivered_at"]
        await ledger.emit(
            conn,
            report,
            "parent_report.delivered.v1",
            now,
            p.ParentReportDeliveredV1(
                **base, delivered_at=delivered_at, incident_occurred_at=report.incident_occurred_at
            ),
        )
        if row.channel == "email" and row.purpose in ("report", "update"):
            await ledger.mark_told(
                conn, report, told_at=delivered_at, how="email", by=None, now=now
            )
    elif status in FAILED:
        await ledger.emit(
            conn,
            report,
            "parent_report.failed.v1",
            now,
            p.ParentReportFailedV1(**base, status=status, failed_at=now),
        )
        if row.purpose in ("report", "update") and ledger.is_open(report):
            # Known undelivered: the next channel need not wait out its 30 minutes.
            s = m.report_step
            await conn.execute(
                s.update()
                .where(
                    (s.c.trust_id == report.trust_id)
                    & (s.c.report_id == report.report_id)
                    & (s.c.step == "fallback")
                    & (s.c.status == "due")
                    & (s.c.due_at > now)
                )
                .values(due_at=now)
            )
        if status == UNKNOWN:
            from services.notifications.steps import add_step  # a cycle otherwise

            await add_step(conn, report, f"unknown:{row.message_id[:8]}", now)
