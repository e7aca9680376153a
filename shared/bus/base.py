"""The bus protocol that the relay publishes to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from shared.events.envelope import EventEnvelope

Handler = Callable[[EventEnvelope], Awaitable[object]]


class Bus(Protocol):
    async def publish(self, envelope: EventEnvelope) -> None:
        """Deliver ``envelope`` to every consumer subscribed to its type (at least once)."""
        ...
