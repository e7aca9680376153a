"""Payload models of the registered event types.

Payloads carry ids and characteristics, never names, except the ``report`` section of
incident events, which holds what the written parent report needs and is readable only
by roles allowed pupil-level data.
"""

from __future__ import annotations

from datetime import date, datetime
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
    fsm_ever6: bool | None = Field(
        default=None, description="Eligible for free school meals at any time in six years"
    )


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


class IncidentOutcomes(_Payload):
    """What reporting compares beyond the facts: injuries, position, staff, by id only."""

    pupil_injured: bool = False
    staff_injuries: int = Field(default=0, ge=0, description="Members of staff injured")
    ground_restraint: bool = Field(
        default=False, description="Any intervention in a ground (supine or prone) position"
    )
    staff_ids: list[str] = Field(default_factory=list, description="Staff involved, by id")


class IncidentSubmittedV1(_Payload):
    """An incident was submitted (or arrived as historic data)."""

    incident: IncidentFacts
    pupil: PupilCharacteristics
    school: SchoolRef
    report: ReportContent
    outcomes: IncidentOutcomes | None = None


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


# Events reporting consumes beyond the thin path. Ids and characteristics only, no names.


class IncidentAmendedV1(_Payload):
    """A new revision of a submitted incident; it replaces every earlier revision."""

    incident: IncidentFacts
    pupil: PupilCharacteristics
    school: SchoolRef
    report: ReportContent | None = None
    outcomes: IncidentOutcomes | None = None
    reason: str = Field(max_length=500)
    voided: bool = Field(default=False, description="Filed against the wrong pupil: not counted")


class IncidentReviewedV1(_Payload):
    """A lead reviewed an incident after the event (post-incident review)."""

    incident_id: str
    reviewed_at: AwareDatetime
    plan_changed: bool = Field(default=False, description="Support or handling plan changed")


class PracticeFlaggedV1(_Payload):
    """A prohibited or unsafe practice was recorded on an incident (DOMAIN §4)."""

    incident_id: str
    practice: str = Field(max_length=60, examples=["prone_hold", "neck_pressure"])
    flagged_at: AwareDatetime


class PupilUpdatedV1(_Payload):
    """A pupil's characteristics changed (no names, no UPN)."""

    pupil_id: str
    school_urn: str = Field(pattern=r"^\d{6}$")
    sen_provision: SenProvision
    year_group: str | None = None
    gender: str | None = None
    fsm_eligible: bool | None = None
    fsm_ever6: bool | None = None
    ethnicity: str | None = None


class StaffUpdatedV1(_Payload):
    """A member of staff joined, changed or left (by id; names stay in incidents)."""

    staff_id: str
    school_urn: str = Field(pattern=r"^\d{6}$")
    requires_training: bool = Field(default=True, description="In a role that may use force")
    active: bool = True


class RollCell(_Payload):
    """Pupils on roll in one group of one characteristic."""

    dimension: Literal["all", "sen", "fsm", "fsm_ever6", "gender", "ethnicity", "year_group"]
    group: str = Field(max_length=20, examples=["E", "K", "N", "yes", "no", "F", "WBRI", "7"])
    count: int = Field(ge=0)


class RollUpdatedV1(_Payload):
    """A school's roll for an academic year by characteristic: the denominators of rates.

    ``subject_id`` is ``{urn}:{academic_year}``; a later revision replaces the whole roll.
    """

    school_urn: str = Field(pattern=r"^\d{6}$")
    academic_year: int = Field(ge=2000, le=2100, description="Starting year: 2026 is 2026/27")
    cells: list[RollCell]


class TrainingRecordedV1(_Payload):
    """A member of staff completed training in restrictive interventions."""

    training_id: str
    staff_id: str
    school_urn: str = Field(pattern=r"^\d{6}$")
    provider: str = Field(max_length=60)
    completed_on: date
    expires_on: date


class TermDates(_Payload):
    """One term of one academic year, local dates inclusive."""

    academic_year: int
    term: Literal["autumn", "spring", "summer"]
    start_date: date
    end_date: date


class TrustSettingsChangedV1(_Payload):
    """Trust settings reporting uses (the whole current set)."""

    suppression_threshold: int = Field(default=4, ge=1, le=20)
    term_dates: list[TermDates] = Field(default_factory=list)


AuditItem = Literal[
    "policy_in_place",
    "definitions_mapped",
    "records_arrive",
    "parents_told",
    "seclusion_named",
    "training_received",
    "staff_trained",
    "data_to_governors",
    "post_incident_review",
]


class AuditAnswer(_Payload):
    """A trust lead's answer to one item of the policy and data audit."""

    item: AuditItem
    answer: str = Field(max_length=200)


class SchoolAuditRecordedV1(_Payload):
    """The trust's policy and data audit of a school (latest answers per item)."""

    school_urn: str = Field(pattern=r"^\d{6}$")
    answers: list[AuditAnswer]
    recorded_at: AwareDatetime


class VocabularyPublishedV1(_Payload):
    """A new version of the trust vocabulary."""

    version: int = Field(ge=1)
    published_at: AwareDatetime


class _ReportEvent(_Payload):
    report_id: str
    incident_id: str
    incident_occurred_at: AwareDatetime | None = None


class ParentReportDeliveredV1(_ReportEvent):
    """A provider confirmed delivery of a parent report."""

    delivered_at: AwareDatetime


class ParentReportFailedV1(_ReportEvent):
    """A provider gave up delivering a parent report."""

    failed_at: AwareDatetime
    status: str = Field(max_length=40)


class ParentReportEscalatedV1(_ReportEvent):
    """A parent report not delivered in time was escalated to the school."""

    escalated_at: AwareDatetime


class ParentReportCompletedV1(_ReportEvent):
    """A parent report's duty ended: the trust standard met (same local day) or missed."""

    outcome: Literal["met", "missed"]
    reason: str | None = Field(default=None, max_length=200)
    completed_at: AwareDatetime
    first_delivered_at: AwareDatetime | None = None


class ParentReportHeldV1(_ReportEvent):
    """A parent report was placed on hold for the designated safeguarding lead."""

    held_at: AwareDatetime


class ParentReportWithheldV1(_ReportEvent):
    """The DSL withheld a parent report (significant harm); reason stays in notifications."""

    withheld_at: AwareDatetime
    local_authority_told: bool = False
