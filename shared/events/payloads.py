"""Payload models of the registered event types.

Payloads carry ids and characteristics, never names, except the ``report`` section of
incident events, which holds what the written parent report needs and is readable only
by roles allowed pupil-level data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

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
    fsm_ever6: bool | None = Field(default=None, description="FSM at any time in six years")


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


class ReportIntervention(_Payload):
    """One intervention as the written report describes it: type and degree, how long."""

    type: str
    technique: str | None = None
    position: str | None = None
    started_at: AwareDatetime
    ended_at: AwareDatetime
    duration_minutes: int = Field(ge=0)
    staff_count: int = Field(ge=0)


class ReportContent(_Payload):
    """What the written parent report says (pupil-level; restricted roles only)."""

    pupil_name: str
    summary: str
    location: str | None = None
    reason: str | None = Field(default=None, description="Why it was necessary")
    interventions: list[ReportIntervention] = Field(default_factory=list)
    injuries: list[str] = Field(default_factory=list, description="Injuries to the pupil")
    support_offered: str | None = None


class FlagFacts(_Payload):
    """A rule's finding on a record."""

    code: str
    severity: Literal["info", "warning", "serious"]
    detail: str
    pointer: str | None = None


class ToldInWriting(_Payload):
    """One contact already given the written details by the school (a letter handed over)."""

    contact_id: str
    told_at: AwareDatetime | None = None
    how: str | None = None
    by: str | None = None


class ParentReportInstruction(_Payload):
    """What the recorder said about telling parents (pupil-level: safeguarding text)."""

    required: bool = Field(default=True, description="False for a pupil aged 20 or over")
    already_told_in_writing: bool = Field(
        default=False, description="Every parent was given the written details by the school"
    )
    told_at: AwareDatetime | None = None
    told_how: str | None = None
    told_by: str | None = None
    told_in_writing: list[ToldInWriting] = Field(
        default_factory=list, description="Contacts told in writing, when the sender knows them"
    )
    safeguarding_hold: bool = Field(
        default=False, description="Hold for the DSL: send nothing until released"
    )
    hold_reason: str | None = None


class RecordFacts(_Payload):
    """The record's comparable facts for reporting: no names, no free text."""

    planned: bool | None = None
    risk_to: list[str] = Field(default_factory=list)
    risk_severity: str | None = None
    strategies: list[str] = Field(default_factory=list)
    interventions: list[ReportIntervention] = Field(default_factory=list)
    injury_count: int = Field(default=0, ge=0)
    pupil_injured: bool = False
    staff_injured: bool = False
    riddor_reportable: bool = False
    medical_check: bool | None = None
    staff_refs: list[str] = Field(
        default_factory=list, description="Staff involved, by the school's staff reference"
    )
    staff_injury_count: int = Field(default=0, ge=0, description="Injuries to staff")


class IncidentSubmittedV1(_Payload):
    """An incident was submitted (or arrived as historic data)."""

    incident: IncidentFacts
    pupil: PupilCharacteristics
    school: SchoolRef
    report: ReportContent
    record: RecordFacts | None = None
    flags: list[FlagFacts] = Field(default_factory=list)
    parent_report: ParentReportInstruction | None = None


class Amendment(_Payload):
    """Who changed what, and why."""

    revision: int = Field(ge=2)
    author: str
    reason: str
    changed_fields: list[str]
    material: bool = Field(description="A change parents must be told about")
    voided: bool = Field(
        default=False, description="The record no longer counts (filed against the wrong pupil)"
    )


class IncidentAmendedV1(IncidentSubmittedV1):
    """A submitted incident was amended: the new revision, whole, with what changed."""

    amendment: Amendment


class IncidentReviewedV1(_Payload):
    """A school lead or DSL reviewed an incident (or closed it)."""

    incident_id: str
    revision: int = Field(ge=1)
    status: Literal["reviewed", "closed"]
    reviewed_at: AwareDatetime
    reviewer_role: str
    outcome: str | None = None
    support_plan_changed: bool = False
    handling_plan_changed: bool = False


class PracticeFlaggedV1(_Payload):
    """Rules flagged a record: stored on it, escalated by severity."""

    incident_id: str
    revision: int = Field(ge=1)
    pupil_id: str
    occurred_at: AwareDatetime
    local_date: str
    setting_type: SettingType
    severity: Literal["info", "warning", "serious"]
    flags: list[FlagFacts]
    historic: bool = False


class SchoolRegisteredV1(_Payload):
    """A school joined the trust's registry, or its details changed."""

    school: SchoolRef


class PupilUpdatedV1(_Payload):
    """A pupil's registry entry was created or changed (characteristics only, no names)."""

    school_urn: str = Field(pattern=r"^\d{6}$")
    pupil: PupilCharacteristics
    fsm_ever6: bool | None = None
    handling_plan_on_file: bool = False


class StaffContact(_Payload):
    """How to reach a member of staff with an alert (personal data: restricted roles only)."""

    email: str | None = None
    phone: str | None = None


class StaffUpdatedV1(_Payload):
    """A member of staff was registered or changed; the contact is for alerts."""

    school_urn: str = Field(pattern=r"^\d{6}$")
    staff_ref: str
    role: str | None = None
    contact: StaffContact | None = None
    escalation_roles: list[Literal["dsl", "head", "trust_lead"]] = Field(
        default_factory=list, description="Alerted to phone parents when a report is at risk"
    )
    requires_training: bool = Field(
        default=True, description="May use restrictive interventions, so must be trained"
    )


class TrainingRecordedV1(_Payload):
    """A training record of a member of staff."""

    school_urn: str = Field(pattern=r"^\d{6}$")
    staff_ref: str
    provider: str
    course: str
    certification: str | None = None
    techniques: list[str]
    completed_date: str
    expiry_date: str


class RollUpdatedV1(_Payload):
    """A school's roll for an academic year: the denominators reporting needs."""

    school_urn: str = Field(pattern=r"^\d{6}$")
    academic_year: str = Field(pattern=r"^\d{4}/\d{2}$")
    total: int = Field(ge=0)
    counts: dict[str, dict[str, int]] = Field(
        description="Per characteristic (sen_provision, fsm_eligible, ...), counts by value"
    )


class TrustSettingsChangedV1(_Payload):
    """The trust's settings, or one school's overrides, changed."""

    school_urn: str | None = Field(default=None, description="Set for a school's overrides")
    settings: dict[str, Any]
    effective: dict[str, Any] = Field(description="The settings now in force for the scope")


class SchoolAuditRecordedV1(_Payload):
    """A trust lead recorded the policy and data audit of a school."""

    school_urn: str = Field(pattern=r"^\d{6}$")
    answers: dict[str, Any]
    recorded_at: AwareDatetime


class VocabularyPublishedV1(_Payload):
    """A new version of the trust vocabulary and its label mappings was published."""

    version: int = Field(ge=1)
    mappings: int = Field(ge=0, description="Mappings in force in this version")
    published_at: AwareDatetime


class ParentReportSentV1(_Payload):
    """A parent report left for a parent through a provider."""

    report_id: str
    incident_id: str
    pupil_id: str
    channel: Literal["email", "sms", "letter"]
    provider: str
    sent_at: datetime
    incident_occurred_at: AwareDatetime


class ClientRevokedV1(_Payload):
    """A machine client's access was revoked: every service refuses its tokens."""

    client_id: str = Field(max_length=64)
    role: str
    revoked_at: AwareDatetime
    revoked_by: str = Field(description="The trust lead's subject (an id, never a name)")


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
