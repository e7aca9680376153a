"""Payload models of the registered event types.

Payloads carry ids and characteristics, never names, except the ``report`` section of
incident events, which holds what the written parent report needs and is readable only
by roles allowed pupil-level data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SenProvision = Literal["N", "K", "E"]
SettingType = Literal[
    "primary", "secondary", "all_through", "special", "alternative_provision", "sixteen_plus"
]


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PupilCharacteristics(_Payload):
    """The pupil as at the incident: what reporting compares, nothing that names them."""

    pupil_id: str
    sen_provision: SenProvision
    year_group: str | None = None
    gender: str | None = None
    fsm_eligible: bool | None = None
    ethnicity: str | None = None
    age_years: int | None = Field(default=None, ge=0)


class SchoolRef(_Payload):
    """The school the incident happened in."""

    urn: str = Field(pattern=r"^\d{6}$")
    name: str
    timezone: str
    setting_type: SettingType
    phone: str | None = None
    email: str | None = None


class IncidentFacts(_Payload):
    """When, where, what: the record's facts, without names."""

    incident_id: str
    revision: int = Field(ge=1)
    status: Literal["submitted", "reviewed", "closed"]
    occurred_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    duration_minutes: int | None = Field(default=None, ge=0)
    local_date: str = Field(description="The incident's date in the school's time zone")
    intervention_type: str
    intervention_label: str
    vocabulary_version: int
    significant: bool = Field(description="Beyond supportive contact: triggers the parent report")
    historic: bool
    recorded_at: AwareDatetime
    source_system: str | None = None


class ReportContent(_Payload):
    """What the written parent report says (pupil-level; restricted roles only)."""

    pupil_name: str
    summary: str


class IncidentSubmittedV1(_Payload):
    """An incident was submitted (or arrived as historic data)."""

    incident: IncidentFacts
    pupil: PupilCharacteristics
    school: SchoolRef
    report: ReportContent


class SchoolRegisteredV1(_Payload):
    """A school joined the trust's registry, or its details changed."""

    school: SchoolRef


class ParentReportSentV1(_Payload):
    """A parent report left for a parent through a provider."""

    report_id: str
    incident_id: str
    pupil_id: str
    channel: Literal["email", "sms", "letter"]
    provider: str
    sent_at: datetime
    incident_occurred_at: AwareDatetime


class ParentReportDeliveredV1(_Payload):
    """A provider confirmed a message of a parent report delivered."""

    report_id: str
    incident_id: str
    pupil_id: str
    channel: Literal["email", "sms"]
    provider: str
    delivered_at: AwareDatetime
    incident_occurred_at: AwareDatetime


class ParentReportFailedV1(_Payload):
    """A message of a parent report failed for good (or its outcome is unknown)."""

    report_id: str
    incident_id: str
    pupil_id: str
    channel: Literal["email", "sms"]
    provider: str
    status: str = Field(description="permanent-failure, technical-failure or unknown")
    failed_at: AwareDatetime


class ParentReportEscalatedV1(_Payload):
    """The same-day standard was at risk and the clock took its next step."""

    report_id: str
    incident_id: str
    pupil_id: str
    level: Literal[
        "fallback", "next_contact", "dsl", "trust_lead", "deadline", "pursue", "unknown", "hold"
    ]
    escalated_at: AwareDatetime
    due_at: AwareDatetime
    notified: int = Field(ge=0, description="How many people were sent an alert or message")


class ParentReportCompletedV1(_Payload):
    """The standard was decided: met, missed (with the reason), withheld or not required.

    A missed report stays open; when its parent is later told, a second completion (higher
    subject_revision) carries ``told_at``.
    """

    report_id: str
    incident_id: str
    pupil_id: str
    standard: Literal["met", "missed", "withheld", "not_required"]
    reason: str | None = None
    incident_occurred_at: AwareDatetime
    local_date: str
    deadline_at: AwareDatetime | None = None
    first_sent_at: AwareDatetime | None = None
    told_at: AwareDatetime | None = None
    told_how: str | None = None
    completed_at: AwareDatetime


class ParentReportHeldV1(_Payload):
    """A parent report waits: for the DSL (safeguarding) or for a school lead's approval."""

    report_id: str
    incident_id: str
    pupil_id: str
    hold: Literal["safeguarding", "approval"]
    held_at: AwareDatetime


class ParentReportWithheldV1(_Payload):
    """The DSL withheld a parent report for likely significant harm (reason kept in the ledger)."""

    report_id: str
    incident_id: str
    pupil_id: str
    withheld_at: AwareDatetime
    local_authority_required: bool
