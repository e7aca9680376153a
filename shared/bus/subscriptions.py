"""Which consumer hears which event types: part of the contract, not of any service."""

from __future__ import annotations

SUBSCRIPTIONS: dict[str, frozenset[str]] = {
    "notifications": frozenset(
        {
            "incident.submitted.v1",
            "incident.amended.v1",
            "school.registered.v1",
            "staff.updated.v1",
            "client.revoked.v1",
        }
    ),
    "reporting": frozenset(
        {
            "incident.submitted.v1",
            "school.registered.v1",
            "parent_report.sent.v1",
            "client.revoked.v1",
            "incident.amended.v1",
            "incident.reviewed.v1",
            "practice.flagged.v1",
            "pupil.updated.v1",
            "staff.updated.v1",
            "roll.updated.v1",
            "training.recorded.v1",
            "trust.settings_changed.v1",
            "school.audit_recorded.v1",
            "vocabulary.published.v1",
            "parent_report.delivered.v1",
            "parent_report.failed.v1",
            "parent_report.escalated.v1",
            "parent_report.completed.v1",
            "parent_report.held.v1",
            "parent_report.withheld.v1",
        }
    ),
}


def subscribers(event_type: str) -> list[str]:
    """The consumers of ``event_type``, in a stable order."""
    return sorted(c for c, types in SUBSCRIPTIONS.items() if event_type in types)


def queue_name(consumer: str) -> str:
    """The arq queue a consumer's worker reads."""
    return f"candour:{consumer}"


def consume_job_name(consumer: str) -> str:
    """The arq job that hands one event to a consumer."""
    return f"{consumer}.consume_event"
