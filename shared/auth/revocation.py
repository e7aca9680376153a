"""Revoked machine clients: a table in every service, fed by ``client.revoked.v1``.

The incidents service writes its row in the same transaction as the revocation; the
other services write theirs when their consumer applies the event. Each API process keeps
a short cache of "not revoked" answers (``CANDOUR_REVOCATION_CACHE_SECONDS``, at most a
few seconds) so that a revocation takes effect everywhere within seconds without a
database read on every request.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from shared.db.engine import Database
from shared.db.types import UTCDateTime
from shared.events.envelope import EventEnvelope
from shared.events.payloads import ClientRevokedV1

CLIENT_REVOKED = "client.revoked.v1"


def add_revoked_client_table(metadata: sa.MetaData) -> sa.Table:
    """The ``revoked_client`` table in a service's own metadata."""
    return sa.Table(
        "revoked_client",
        metadata,
        sa.Column("trust_id", sa.String(7), primary_key=True),
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("revoked_at", UTCDateTime, nullable=False),
    )


async def record_revocation(
    conn: AsyncConnection, table: sa.Table, trust_id: str, client_id: str, revoked_at: Any
) -> None:
    """Add a client to ``table`` (a repeat changes nothing)."""
    key = (table.c.trust_id == trust_id) & (table.c.client_id == client_id)
    if await conn.scalar(sa.select(sa.literal(1)).where(key)):
        return
    await conn.execute(
        table.insert().values(trust_id=trust_id, client_id=client_id, revoked_at=revoked_at)
    )


async def apply_client_revoked(
    conn: AsyncConnection, envelope: EventEnvelope, table: sa.Table
) -> None:
    """A consumer's effect of ``client.revoked.v1``: remember the client as revoked."""
    event = ClientRevokedV1.model_validate(envelope.payload)
    await record_revocation(conn, table, envelope.trust_id, event.client_id, event.revoked_at)


class RevocationCache:
    """Answers "is this client revoked?" from the service's table, cached briefly."""

    def __init__(self, db: Database, table: sa.Table, ttl_seconds: float = 2.0) -> None:
        self.db = db
        self.table = table
        self.ttl = ttl_seconds
        self._seen: dict[tuple[str, str], tuple[bool, float]] = {}
        # On SQLite the service's engine opens every transaction with BEGIN IMMEDIATE (the
        # write lock), which the request's own transaction may already hold; a plain read
        # on its own short-lived connection never waits for it (WAL lets readers through).
        self._engine: AsyncEngine = db.engine
        if db.dialect == "sqlite":
            self._engine = create_async_engine(
                db.url, connect_args={"timeout": 30}, poolclass=NullPool
            )

    def invalidate(self) -> None:
        """Forget every cached answer (after a revocation in this process)."""
        self._seen.clear()

    async def is_revoked(
        self, trust_id: str, client_id: str, conn: AsyncConnection | None = None
    ) -> bool:
        """Whether the client has been revoked (never older than the cache's ttl).

        ``conn``, when given, is used instead of a connection of the cache's own.
        """
        key = (trust_id, client_id)
        now = time.monotonic()
        cached = self._seen.get(key)
        if cached is not None and (cached[0] or now - cached[1] < self.ttl):
            return cached[0]
        t = self.table
        query = sa.select(sa.literal(1)).where(
            (t.c.trust_id == trust_id) & (t.c.client_id == client_id)
        )
        if conn is not None:
            revoked = bool(await conn.scalar(query))
        else:
            async with self._engine.connect() as own:
                revoked = bool(await own.scalar(query))
        if len(self._seen) > 10_000:
            self._seen.clear()
        self._seen[key] = (revoked, now)
        return revoked
