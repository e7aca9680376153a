"""The registry of versioned event types and their payload models.

Every type a service may emit is named here with the model its payload must satisfy;
the outbox writer refuses an unregistered type, and ``make openapi`` writes a JSON
Schema for each into ``openapi/events/``.
"""

from __future__ import annotations

from pydantic import BaseModel

from shared.events import payloads as p

EVENT_TYPES: dict[str, type[BaseModel]] = {
    "incident.submitted.v1": p.IncidentSubmittedV1,
    "school.registered.v1": p.SchoolRegisteredV1,
    "parent_report.sent.v1": p.ParentReportSentV1,
    "incident.amended.v1": p.IncidentAmendedV1,
    "incident.reviewed.v1": p.IncidentReviewedV1,
    "practice.flagged.v1": p.PracticeFlaggedV1,
    "pupil.updated.v1": p.PupilUpdatedV1,
    "staff.updated.v1": p.StaffUpdatedV1,
    "roll.updated.v1": p.RollUpdatedV1,
    "training.recorded.v1": p.TrainingRecordedV1,
    "trust.settings_changed.v1": p.TrustSettingsChangedV1,
    "school.audit_recorded.v1": p.SchoolAuditRecordedV1,
    "vocabulary.published.v1": p.VocabularyPublishedV1,
    "parent_report.delivered.v1": p.ParentReportDeliveredV1,
    "parent_report.failed.v1": p.ParentReportFailedV1,
    "parent_report.escalated.v1": p.ParentReportEscalatedV1,
    "parent_report.completed.v1": p.ParentReportCompletedV1,
    "parent_report.held.v1": p.ParentReportHeldV1,
    "parent_report.withheld.v1": p.ParentReportWithheldV1,
}


def event_type(name: str) -> type[BaseModel]:
    """The payload model of a registered event type."""
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise KeyError(f"unregistered event type {name!r}") from None


def payload_model(name: str) -> type[BaseModel]:
    """Alias of :func:`event_type`, for readability at call sites."""
    return event_type(name)
