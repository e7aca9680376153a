"""Builders for incident tests."""

from __future__ import annotations

import copy
import itertools
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from services.incidents import models as m
from services.incidents.schemas import EXAMPLE_INCIDENT
from shared.runtime import ServiceContext

_n = itertools.count(1)


def make_incident(**overrides: Any) -> dict[str, Any]:
    """A complete submission for the demo trust, with its own source id.

    Moving ``occurred_at``/``ended_at`` without giving ``interventions`` moves the
    example's intervention with them, so the record stays consistent.
    """
    body = copy.deepcopy(EXAMPLE_INCIDENT)
    body["source_id"] = f"T-{next(_n):05d}"
    body.update(overrides)
    if "interventions" not in overrides and ("occurred_at" in overrides or "ended_at" in overrides):
        start = datetime.fromisoformat(body["occurred_at"])
        end = datetime.fromisoformat(body["ended_at"]) if body.get("ended_at") else start
        body["interventions"][0].update(started_at=start.isoformat(), ended_at=end.isoformat())
    return body


def intervention(**overrides: Any) -> dict[str, Any]:
    """The example's intervention, changed."""
    return {**copy.deepcopy(EXAMPLE_INCIDENT["interventions"][0]), **overrides}


async def outbox_types(ctx: ServiceContext, subject_id: str | None = None) -> list[str]:
    """Event types in the incidents outbox, oldest first."""
    o = m.outbox
    stmt = sa.select(o.c.type).order_by(o.c.id)
    if subject_id:
        stmt = stmt.where(o.c.subject_id == subject_id)
    async with ctx.db.transaction() as conn:
        return [r.type for r in await conn.execute(stmt)]


async def outbox_payloads(ctx: ServiceContext, type_: str, subject_id: str) -> list[dict[str, Any]]:
    """Payloads of one event type about one subject."""
    o = m.outbox
    stmt = (
        sa.select(o.c.payload)
        .where((o.c.type == type_) & (o.c.subject_id == subject_id))
        .order_by(o.c.id)
    )
    async with ctx.db.transaction() as conn:
        return [r.payload for r in await conn.execute(stmt)]
