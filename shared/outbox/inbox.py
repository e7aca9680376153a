"""The consumer inbox: an event's effect is applied once, however often it arrives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.clock import Clock
from shared.db.engine import Database
from shared.events.envelope import EventEnvelope

Apply = Callable[[AsyncConnection, EventEnvelope], Awaitable[None]]


async def consume_once(
    db: Database,
    inbox: sa.Table,
    consumer: str,
    envelope: EventEnvelope,
    apply: Apply,
    clock: Clock,
) -> bool:
    """Record ``envelope`` in the inbox and apply it, in one transaction.

    Returns False when the event was already consumed (its effect is not repeated). Two
    deliveries racing each other both try to insert the same inbox key; the loser's
    transaction rolls back whole, its effect with it.
    """
    key = (
        (inbox.c.trust_id == envelope.trust_id)
        & (inbox.c.consumer == consumer)
        & (inbox.c.event_id == envelope.event_id)
    )
    try:
        async with db.transaction() as conn:
            if await conn.scalar(sa.select(sa.literal(1)).where(key)):
                return False
            await conn.execute(
                inbox.insert().values(
                    trust_id=envelope.trust_id,
                    consumer=consumer,
                    event_id=envelope.event_id,
                    type=envelope.type,
                    producer=envelope.producer,
                    sequence=envelope.sequence,
                    processed_at=clock.now(),
                )
            )
            await apply(conn, envelope)
    except IntegrityError:
        async with db.engine.connect() as conn:
            if await conn.scalar(sa.select(sa.literal(1)).where(key)):
                return False
        raise
    return True
