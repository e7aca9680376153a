"""API models of the trust registry (never tables)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from shared.schemas import LocalDate, Timestamp


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TrustIn(_In):
    """The trust itself, identified by the caller's token."""

    name: str = Field(min_length=1, max_length=200)


class SchoolIn(_In):
    """A school as its MIS or the trust describes it; the setting type is derived."""

    name: str = Field(min_length=1, max_length=200)
    laestab: str | None = Field(default=None, max_length=7, description="LA number + estab")
    establishment_type: str | None = Field(default=None, max_length=80)
    phase: str | None = Field(default=None, max_length=40)
    timezone: str = Field(default="Europe/London", max_length=64, description="IANA zone")
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)


class SchoolOut(BaseModel):
    """A school of the trust."""

    urn: str
    name: str
    laestab: str | None
    establishment_type: str | None
    phase: str | None
    setting_type: str
    timezone: str
    phone: str | None
    email: str | None


class HandlingPlan(_In):
    """The pupil's handling plan: the techniques it permits (labels or canonical codes)."""

    techniques: list[str] = Field(max_length=30)


class PupilIn(_In):
    """A pupil as the school's MIS holds them, keyed by the MIS reference."""

    upn: str | None = Field(default=None, max_length=20)
    legal_first_name: str = Field(min_length=1, max_length=100)
    legal_last_name: str = Field(min_length=1, max_length=100)
    preferred_name: str | None = Field(default=None, max_length=100)
    date_of_birth: LocalDate | None = None
    sen_provision: Literal["N", "K", "E"] = "N"
    year_group: str | None = Field(default=None, max_length=2)
    gender: Literal["M", "F", "U"] | None = None
    fsm_eligible: StrictBool | None = None
    fsm_ever6: StrictBool | None = None
    ethnicity: str | None = Field(default=None, max_length=4)
    handling_plan: HandlingPlan | None = None


class PupilOut(BaseModel):
    """A pupil (pupil-level data: restricted roles, and every read is audited)."""

    pupil_id: str
    school_urn: str
    mis_ref: str
    upn: str | None
    legal_first_name: str
    legal_last_name: str
    preferred_name: str | None
    date_of_birth: LocalDate | None
    sen_provision: str
    year_group: str | None
    gender: str | None
    fsm_eligible: StrictBool | None
    fsm_ever6: StrictBool | None
    ethnicity: str | None
    handling_plan: list[str] | None


class TrainingIn(_In):
    """A training record: provider, course, certification, dates, techniques covered."""

    provider: str = Field(min_length=1, max_length=100)
    course: str = Field(min_length=1, max_length=200)
    certification: str | None = Field(default=None, max_length=200)
    techniques: list[str] = Field(max_length=40, description="Provider hold names or codes")
    completed_date: LocalDate
    expiry_date: LocalDate


class StaffIn(_In):
    """A member of staff, with the contact used for alerts and their training."""

    name: str = Field(min_length=1, max_length=200)
    role: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=40)
    escalation_roles: list[Literal["dsl", "head", "trust_lead"]] = Field(
        default_factory=list,
        max_length=3,
        description="Who is alerted to phone parents when a report is at risk",
    )
    training: list[TrainingIn] = Field(default_factory=list, max_length=20)
    requires_training: StrictBool = Field(
        default=True, description="May use restrictive interventions, so must be trained"
    )


class StaffOut(BaseModel):
    """A member of staff with their training records."""

    school_urn: str
    staff_ref: str
    name: str
    role: str | None
    email: str | None
    phone: str | None
    requires_training: bool
    escalation_roles: list[str]
    training: list[dict[str, Any]]


Characteristic = Literal[
    "sen_provision", "fsm_eligible", "fsm_ever6", "gender", "ethnicity", "year_group"
]


class RollIn(_In):
    """A school's roll for one academic year, with counts by characteristic."""

    total: StrictInt = Field(ge=0, le=100_000)
    counts: dict[Characteristic, dict[str, StrictInt]] = Field(default_factory=dict)


class RollOut(BaseModel):
    """A stored roll."""

    school_urn: str
    academic_year: str
    total: StrictInt
    counts: dict[str, dict[str, StrictInt]]


class SettingsIn(_In):
    """Trust settings (or a school's overrides): only what is sent is set."""

    ground_restraint_limit_minutes: StrictInt | None = Field(default=None, ge=1, le=60)
    record_deadline_hours: StrictInt | None = Field(default=None, ge=1, le=240)
    suppression_threshold: StrictInt | None = Field(default=None, ge=0, le=50)
    prohibited_techniques: list[str] | None = Field(default=None, max_length=30)
    prohibited_positions: list[str] | None = Field(default=None, max_length=10)
    parent_report_deadline_hours: StrictInt | None = Field(default=None, ge=1, le=240)
    retention_years_after_birth: StrictInt | None = Field(default=None, ge=1, le=100)
    terms: list[dict[str, LocalDate]] | None = Field(
        default=None, max_length=12, description="Term dates: each {starts, ends}"
    )


class AuditIn(_In):
    """The trust's policy and data audit of one school, as a trust lead answers it."""

    policy_in_place: StrictBool
    parents_told_how: str = Field(min_length=1, max_length=1000)
    seclusion_named_as: str = Field(min_length=1, max_length=200)
    training_bought: list[str] = Field(max_length=20)
    data_reaches_governors: StrictBool
    post_incident_review: StrictBool
    no_contact_policy: StrictBool = Field(description="A 'no-contact' policy is itself a concern")


class LabelRef(_In):
    """A label of the trust ('') or of one school."""

    scope: str = Field(default="", pattern=r"^(|\d{6})$", description="'' or a school URN")
    kind: Literal["intervention_type", "technique", "strategy"]
    label: str = Field(min_length=1, max_length=120)


class LabelIn(LabelRef):
    """A label mapped onto a canonical term; a provider's hold name may add more."""

    code: str = Field(min_length=1, max_length=60)
    position: Literal["standing", "seated", "kneeling", "ground_supine", "ground_prone"] | None = (
        Field(default=None, description="Techniques only: the position the hold puts a pupil in")
    )
    staff_count: StrictInt | None = Field(
        default=None, ge=1, le=6, description="Techniques only: staff the hold takes"
    )


class LabelOut(BaseModel):
    """A mapping, current or retired."""

    scope: str
    kind: str
    label: str
    code: str
    version: StrictInt
    retired_at: Timestamp | None
    attributes: dict[str, Any] | None = None


class UnmappedLabel(BaseModel):
    """A label used in a submission that maps to nothing."""

    scope: str
    kind: str
    label: str
    seen: StrictInt
    first_seen_at: Timestamp
    last_seen_at: Timestamp
