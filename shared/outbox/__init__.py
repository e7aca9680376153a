"""The transactional outbox (producers) and the inbox (consumers)."""

from shared.outbox.inbox import consume_once
from shared.outbox.relay import Relay
from shared.outbox.tables import OutboxTables, add_outbox_tables
from shared.outbox.writer import record_event

__all__ = ["OutboxTables", "Relay", "add_outbox_tables", "consume_once", "record_event"]
