"""The one protocol every message provider follows, and what a send can come to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Protocol

# Final outcomes; anything else (created, sending, pending, sent) is still on its way.
DELIVERED = "delivered"
PERMANENT = "permanent-failure"
TEMPORARY = "temporary-failure"  # worth another bounded try
TECHNICAL = "technical-failure"
UNKNOWN = "unknown"  # the provider may or may not have it: never re-sent blindly
FINAL = frozenset({DELIVERED, PERMANENT, TECHNICAL, UNKNOWN})


@dataclass(frozen=True)
class SendResult:
    """What a provider said about one message."""

    provider_ref: str
    status: str  # created, sending, delivered, permanent-failure, temporary-failure, ...
    delivered_at: datetime | None = None
    error: str | None = None


class Provider(Protocol):
    name: str

    async def send_email(self, message_id: str, email: EmailMessage, at: datetime) -> SendResult:
        """Send one written report by email; ``message_id`` is our reference."""
        ...

    async def send_sms(self, message_id: str, to: str, text: str, at: datetime) -> SendResult:
        """Send one SMS; ``message_id`` is our reference."""
        ...

    async def lookup(self, message_id: str) -> SendResult | None:
        """What the provider knows of our reference (None: it cannot say)."""
        ...
