"""Projections: each event's effect on the read model, applied once through the inbox.

Every projection gives the same read model whatever order its events arrive in: incident
facts keep the highest revision, other subjects keep the highest ``subject_revision``, and
parent-report times keep the earliest.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting.projections import incidents, notifications, registry
from services.reporting.projections.common import upsert
from shared.auth.revocation import CLIENT_REVOKED, apply_client_revoked
from shared.bus.base import Handler
from shared.events.envelope import EventEnvelope
from shared.outbox.inbox import consume_once
from shared.runtime import ServiceContext

CONSUMER = "reporting"

Projection = Callable[[AsyncConnection, EventEnvelope], Awaitable[None]]
PROJECTIONS: dict[str, Projection] = {
    "school.registered.v1": registry.apply_school_registered,
    "incident.submitted.v1": incidents.apply_incident,
    "incident.amended.v1": incidents.apply_amended,
    "incident.reviewed.v1": incidents.apply_reviewed,
    "practice.flagged.v1": incidents.apply_flagged,
    "pupil.updated.v1": registry.apply_pupil_updated,
    "staff.updated.v1": registry.apply_staff_updated,
    "roll.updated.v1": registry.apply_roll_updated,
    "training.recorded.v1": registry.apply_training_recorded,
    "trust.settings_changed.v1": registry.apply_settings_changed,
    "school.audit_recorded.v1": registry.apply_audit_recorded,
    "vocabulary.published.v1": registry.apply_vocabulary_published,
    "parent_report.sent.v1": notifications.apply_sent,
    "parent_report.delivered.v1": notifications.apply_delivered,
    "parent_report.failed.v1": notifications.apply_failed,
    "parent_report.escalated.v1": notifications.apply_escalated,
    "parent_report.completed.v1": notifications.apply_completed,
    "parent_report.held.v1": notifications.apply_held,
    "parent_report.withheld.v1": notifications.apply_withheld,
}


async def apply(conn: AsyncConnection, env: EventEnvelope) -> None:
    """Apply one event, and move the trust's freshness mark to the latest event applied."""
    if env.type == CLIENT_REVOKED:
        # Access control, not governance data: the read model and its freshness stay as they are.
        await apply_client_revoked(conn, env, m.revoked_client)
        return
    projection = PROJECTIONS.get(env.type)
    if projection is None:
        return
    await projection(conn, env)
    t = m.trust_state
    await upsert(
        conn,
        t,
        {"trust_id": env.trust_id},
        {"last_event_at": env.occurred_at},
        newer=sa.or_(t.c.last_event_at.is_(None), t.c.last_event_at < env.occurred_at),
    )


def make_consumer(ctx: ServiceContext) -> Handler:
    """The reporting consumer: each event applied once, in its own transaction."""

    async def handle(envelope: EventEnvelope) -> bool:
        return await consume_once(ctx.db, m.inbox, CONSUMER, envelope, apply, ctx.clock)

    return handle
