"""The bus: who hears which events, and two ways to deliver them (arq, in-process)."""

from shared.bus.base import Bus, Handler
from shared.bus.subscriptions import SUBSCRIPTIONS, queue_name, subscribers

__all__ = ["SUBSCRIPTIONS", "Bus", "Handler", "queue_name", "subscribers"]
