"""The in-process bus of embedded mode: the relay hands each event straight to its consumers."""

from __future__ import annotations

from shared.bus.base import Handler
from shared.bus.subscriptions import subscribers
from shared.events.envelope import EventEnvelope


class EmbeddedBus:
    """Calls each subscribed consumer in turn; an error leaves the event for the next relay tick.

    The relay marks an event published only after every consumer returned, so a crash
    loses nothing; consumers that already applied it skip it the second time (inbox).
    """

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}

    def subscribe(self, consumer: str, handler: Handler) -> None:
        """Register the consumer function of ``consumer``."""
        self._handlers[consumer] = handler

    async def publish(self, envelope: EventEnvelope) -> None:
        """Deliver to every subscribed consumer that runs in this process."""
        for consumer in subscribers(envelope.type):
            handler = self._handlers.get(consumer)
            if handler is not None:
                await handler(envelope)
