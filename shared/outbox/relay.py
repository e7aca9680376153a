"""The relay: publishes committed outbox rows, in order, at least once.

One relay tick runs in one transaction under a lock (a PostgreSQL advisory lock; on
SQLite the write lock that ``BEGIN IMMEDIATE`` takes), so two relays running at once
never interleave: the second finds the lock taken and does nothing this tick. Within
the tick each unpublished row gets the next sequence number, is handed to the bus, and
is marked published. A crash after the bus accepted an event and before the commit
means it is published again next tick: consumers' inboxes make that harmless.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.bus.base import Bus
from shared.clock import Clock, SystemClock
from shared.db.engine import Database
from shared.events.envelope import EventEnvelope

log = logging.getLogger("candour.relay")


def envelope_from_row(row: sa.Row, producer: str, sequence: int | None = None) -> EventEnvelope:
    """The envelope for one sequenced outbox row."""
    return EventEnvelope(
        event_id=row.event_id,
        type=row.type,
        sequence=sequence if sequence is not None else row.sequence,
        producer=producer,
        occurred_at=row.occurred_at,
        trust_id=row.trust_id,
        school_urn=row.school_urn,
        subject_id=row.subject_id,
        subject_revision=row.subject_revision,
        payload=row.payload,
    )


class Relay:
    """Publishes one service's outbox to the bus."""

    def __init__(
        self,
        service: str,
        db: Database,
        outbox: sa.Table,
        bus: Bus,
        *,
        batch_size: int = 200,
        clock: Clock | None = None,
        on_published: Callable[[EventEnvelope], Awaitable[None]] | None = None,
    ) -> None:
        self.service = service
        self.db = db
        self.outbox = outbox
        self.bus = bus
        self.batch_size = batch_size
        self.clock = clock or SystemClock()
        self.on_published = on_published
        self._lock_key = zlib.crc32(f"candour-relay:{service}".encode()) & 0x7FFFFFFF

    async def _try_lock(self, conn: AsyncConnection) -> bool:
        if conn.dialect.name == "postgresql":
            got = await conn.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(self._lock_key)))
            return bool(got)
        return True  # SQLite: BEGIN IMMEDIATE already holds the only write lock

    async def run_once(self) -> int:
        """Publish what is waiting; return how many events were published."""
        o = self.outbox
        published = 0
        async with self.db.transaction() as conn:
            if not await self._try_lock(conn):
                return 0
            rows = (
                await conn.execute(
                    sa.select(o)
                    .where(o.c.published_at.is_(None))
                    .order_by(o.c.id)
                    .limit(self.batch_size)
                )
            ).all()
            if not rows:
                return 0
            last = await conn.scalar(sa.select(sa.func.max(o.c.sequence)))
            next_seq = int(last or 0) + 1
            for row in rows:
                seq = row.sequence
                if seq is None:
                    seq = next_seq
                    next_seq += 1
                    await conn.execute(o.update().where(o.c.id == row.id).values(sequence=seq))
                envelope = envelope_from_row(row, self.service, seq)
                try:
                    await self.bus.publish(envelope)
                except Exception as exc:
                    log.warning(
                        "publish failed; will retry",
                        extra={"event_id": str(row.event_id), "error": type(exc).__name__},
                    )
                    await conn.execute(
                        o.update()
                        .where(o.c.id == row.id)
                        .values(attempts=o.c.attempts + 1, last_error=repr(exc)[:500])
                    )
                    break  # keep order: nothing after a failed event goes first
                await conn.execute(
                    o.update().where(o.c.id == row.id).values(published_at=self.clock.now())
                )
                published += 1
        return published

    async def drain(self) -> int:
        """Publish until nothing is waiting (or a publish fails)."""
        total = 0
        while True:
            n = await self.run_once()
            total += n
            if n < self.batch_size:
                return total
