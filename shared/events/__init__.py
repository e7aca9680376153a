"""Events: one envelope, versioned types in past tense (``incident.submitted.v1``)."""

from shared.events.envelope import EventEnvelope
from shared.events.registry import EVENT_TYPES, event_type, payload_model

__all__ = ["EVENT_TYPES", "EventEnvelope", "event_type", "payload_model"]
