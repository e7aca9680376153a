"""Use cases of the notifications service: parent reports from incident events.

On ``incident.submitted``: one report per contact with parental responsibility who may be
told; ``not_required`` for a pupil aged 20 or over; nothing for historic records. A report
on safeguarding hold waits for the DSL (alerted at once); in an ``approve_first`` school
it waits for a school lead; a parent already told in writing is recorded as told. The
clock (alerts, deadline) runs for every open report, held or not.

The incident event's optional ``parent_report`` section (``ParentReportInstruction``) says
whether the report is on safeguarding hold (with the reason) and whether parents were
already told in writing: all of them (``already_told_in_writing``), or named contacts
(``told_in_writing``).
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import clock as cl
from services.notifications import escalation, ledger, reading, steps
from services.notifications import models as m
from services.notifications import repository as repo
from services.notifications.amendments import apply_incident_amended
from services.notifications.contacts import apply_staff_updated
from services.notifications.providers.base import Provider
from shared.auth.revocation import CLIENT_REVOKED, apply_client_revoked
from shared.bus.base import Handler
from shared.events import payloads as p
from shared.events.envelope import EventEnvelope
from shared.outbox.inbox import consume_once
from shared.runtime import ServiceContext

log = logging.getLogger("candour.notifications")
CONSUMER = "notifications"
ADULT_AGE = 20  # DOMAIN §1: no parent report is required for a pupil aged 20 or over


async def apply_incident_submitted(
    conn: AsyncConnection, envelope: EventEnvelope, ctx: ServiceContext
) -> list[str]:
    """Create the incident's parent reports and plan their clocks; returns the report ids."""
    event = reading.submitted(envelope.payload)
    section = reading.parent_report_section(envelope.payload)
    facts = event.incident
    if facts.historic or not facts.significant:
        return []
    trust_id, zone = envelope.trust_id, event.school.timezone
    now = ctx.clock.now()
    policy = await cl.policy_for(conn, trust_id, event.school.urn)
    c = m.contact
    contacts = (
        await conn.execute(
            sa.select(c)
            .where(
                (c.c.trust_id == trust_id)
                & (c.c.pupil_id == event.pupil.pupil_id)
                & c.c.parental_responsibility
            )
            .order_by(c.c.priority, c.c.contact_id)
        )
    ).all()
    # A parent the school must not contact (its reason is on the contact) gets no report;
    # when that leaves no parent at all, the local authority must be told instead.
    barred = any(x.do_not_contact for x in contacts)
    contacts = [x for x in contacts if not x.do_not_contact]
    content = reading.content(event, envelope.payload)
    adult = event.pupil.age_years is not None and event.pupil.age_years >= ADULT_AGE
    hold = bool(section.get("safeguarding_hold"))
    told = reading.told_in_writing(section)
    local_day = cl.local_date(facts.occurred_at, zone)
    targets: list[tuple[str, str]] = [(x.contact_id, "parent") for x in contacts]
    if not targets and not adult:
        targets = [
            ("local-authority", "local_authority") if barred else ("unknown", "unknown_contact")
        ]
    if section.get("already_told_in_writing"):
        # The record says every parent was given the written details: each is told, not sent.
        for contact_id, kind in targets:
            if kind == "parent":
                told.setdefault(
                    contact_id,
                    {
                        "told_at": section.get("told_at"),
                        "how": section.get("told_how") or "letter",
                        "by": section.get("told_by") or "school",
                    },
                )
    created = []
    for contact_id, kind in targets:
        report_id = str(uuid.uuid4())
        status = (
            "not_required"
            if adult
            else "held"
            if hold
            else ("awaiting_approval" if policy.approval_mode == "approve_first" else "queued")
        )
        await conn.execute(
            m.parent_report.insert().values(
                trust_id=trust_id,
                report_id=report_id,
                incident_id=facts.incident_id,
                incident_revision=facts.revision,
                pupil_id=event.pupil.pupil_id,
                school_urn=event.school.urn,
                contact_id=contact_id,
                status=status,
                incident_occurred_at=facts.occurred_at,
                local_date=local_day.isoformat(),
                timezone=zone,
                content=content,
                created_at=now,
                kind=kind,
                hold=(
                    "safeguarding"
                    if hold
                    else "approval"
                    if status == "awaiting_approval"
                    else None
                ),
                hold_reason=str(section.get("hold_reason") or "")[:1000] or None,
                deadline_at=cl.end_of_day(local_day, zone),
            )
        )
        report = await ledger.load(conn, trust_id, report_id)
        assert report is not None
        await ledger.note(conn, report, now, "created", status=status)
        created.append(report_id)
        if adult:
            await ledger.complete(conn, report, now, "not_required", "pupil aged 20 or over")
            continue
        if contact_id in told:
            item = told[contact_id]
            at = reading.when(item.get("told_at")) or now
            await ledger.mark_told(
                conn,
                report,
                told_at=at,
                how=str(item.get("how") or "letter"),
                by=str(item.get("by") or "school") or None,
                now=now,
                status="told",
            )
            continue
        await steps.plan_clock(conn, report, policy, now)
        if report.hold:
            await steps.add_step(conn, report, f"alert_{report.hold}", now)
            await ledger.emit(
                conn,
                report,
                "parent_report.held.v1",
                now,
                p.ParentReportHeldV1(
                    report_id=report_id,
                    incident_id=facts.incident_id,
                    pupil_id=event.pupil.pupil_id,
                    hold=report.hold,
                    held_at=now,
                ),
            )
        elif kind == "parent":
            await steps.plan_sending(conn, report, policy, now)
        elif kind == "local_authority":
            await steps.add_step(conn, report, "alert_la", now)
    return created


def make_consumer(ctx: ServiceContext, provider: Provider) -> Handler:
    """The notifications consumer: inbox-guarded report creation, then the first steps."""

    async def handle(envelope: EventEnvelope) -> bool:
        created: list[str] = []

        async def apply(conn: AsyncConnection, env: EventEnvelope) -> None:
            if env.type == "incident.submitted.v1":
                created.extend(await apply_incident_submitted(conn, env, ctx))
            elif env.type == CLIENT_REVOKED:
                await apply_client_revoked(conn, env, m.revoked_client)
            elif env.type == "school.registered.v1":
                school = p.SchoolRegisteredV1.model_validate(env.payload).school
                await repo.record_school(
                    conn, env.trust_id, school.urn, school.name, school.timezone, ctx.clock.now()
                )
            elif env.type == "incident.amended.v1":
                created.extend(await apply_incident_amended(conn, env, ctx))
            elif env.type == "staff.updated.v1":
                await apply_staff_updated(
                    conn, ctx.clock, env.trust_id, env.school_urn, env.payload
                )

        applied = await consume_once(ctx.db, m.inbox, CONSUMER, envelope, apply, ctx.clock)
        for report_id in created:
            try:
                await escalation.run_due(ctx, provider, envelope.trust_id, report_id)
                await escalation.schedule_report(ctx, envelope.trust_id, report_id)
            except Exception:
                # The steps are in the database; the sweeper runs them on its next pass.
                log.exception(
                    "first steps failed; left for the sweeper", extra={"report_id": report_id}
                )
        return applied

    return handle


async def sweep(ctx: ServiceContext, provider: Provider) -> int:
    """The sweeper's pass (embedded mode and the worker's cron job run the same)."""
    return await escalation.sweep(ctx, provider)
