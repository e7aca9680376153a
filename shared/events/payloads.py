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


class ClientRevokedV1(_Payload):
    """A machine client's access was revoked: every service refuses its tokens."""

    client_id: str = Field(max_length=64)
    role: str
    revoked_at: AwareDatetime
    revoked_by: str = Field(description="The trust lead's subject (an id, never a name)")
