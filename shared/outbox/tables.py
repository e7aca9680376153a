"""The outbox and inbox tables, added to each service's own metadata."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from shared.db.types import UTCDateTime

# SQLite autoincrements only an INTEGER PRIMARY KEY; PostgreSQL wants a BIGINT identity.
BigIntId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


@dataclass(frozen=True)
class OutboxTables:
    outbox: sa.Table
    inbox: sa.Table


def add_outbox_tables(metadata: sa.MetaData) -> OutboxTables:
    """Define ``outbox_event`` and ``inbox_event`` in ``metadata``.

    The outbox is the service's own event log: ``id`` orders writes, ``sequence`` is
    assigned by the relay at publication (gap-free, in publish order) and is what the
    change feed pages by. Its primary key is the log position rather than ``trust_id``:
    the relay must read across trusts in one order; the feed reads by
    ``(trust_id, sequence)`` through its own index.
    """
    outbox = sa.Table(
        "outbox_event",
        metadata,
        sa.Column("id", BigIntId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("type", sa.String(80), nullable=False),
        sa.Column("trust_id", sa.String(7), nullable=False),
        sa.Column("school_urn", sa.String(6)),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("subject_revision", sa.Integer, nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("sequence", sa.BigInteger, unique=True),
        sa.Column("published_at", UTCDateTime),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.String(500)),
        sa.Index("ix_outbox_event_trust_id_sequence", "trust_id", "sequence"),
        sa.Index("ix_outbox_event_published_at_id", "published_at", "id"),
    )
    inbox = sa.Table(
        "inbox_event",
        metadata,
        sa.Column("trust_id", sa.String(7), primary_key=True),
        sa.Column("consumer", sa.String(40), primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("type", sa.String(80), nullable=False),
        sa.Column("producer", sa.String(40), nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("processed_at", UTCDateTime, nullable=False),
    )
    return OutboxTables(outbox=outbox, inbox=inbox)
