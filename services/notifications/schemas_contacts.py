"""API models of contacts, escalation contacts and parent-report settings."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from services.notifications.contacts import normalise_mobile
from shared.schemas import Timestamp

Relationship = Literal[
    "mother",
    "father",
    "parent",
    "step_parent",
    "carer",
    "foster_carer",
    "guardian",
    "grandparent",
    "other_relative",
    "social_worker",
    "virtual_school_head",
    "other",
]
HHMM = r"^([01]\d|2[0-3]):[0-5]\d$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Phone(_Body):
    mobile: str | None = Field(default=None, max_length=30, examples=["07700 900123"])

    @field_validator("mobile")
    @classmethod
    def _mobile(cls, v: str | None) -> str | None:
        return normalise_mobile(v) if v else None


class ContactUpsert(_Phone):
    """One of a pupil's contacts, as the MIS holds it."""

    school_urn: str = Field(pattern=r"^\d{6}$")
    name: str = Field(min_length=1, max_length=200)
    relationship: Relationship
    parental_responsibility: StrictBool
    priority: StrictInt = Field(default=1, ge=1, le=20)
    email: EmailStr | None = None
    preferred_channel: Literal["email", "sms"] = "email"
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    do_not_contact: StrictBool = False
    do_not_contact_reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _reason(self) -> ContactUpsert:
        if self.do_not_contact and not (self.do_not_contact_reason or "").strip():
            raise ValueError("do_not_contact_reason is required when do_not_contact is true")
        return self


class ContactView(BaseModel):
    """A contact (visible to pupil-level roles only)."""

    contact_id: str
    pupil_id: str
    school_urn: str
    name: str
    relationship: str
    parental_responsibility: StrictBool
    priority: StrictInt
    email: str | None
    mobile: str | None
    preferred_channel: str
    language: str
    do_not_contact: StrictBool
    do_not_contact_reason: str | None
    updated_at: Timestamp


class StaffUpsert(_Phone):
    """A named member of staff alerted when a parent report is at risk."""

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr | None = None
    active: StrictBool = True

    @model_validator(mode="after")
    def _reachable(self) -> StaffUpsert:
        if not self.email and not self.mobile:
            raise ValueError("an email or a mobile is required")
        return self


class StaffView(BaseModel):
    """An escalation contact."""

    school_urn: str
    role: str
    staff_id: str
    name: str
    email: str | None
    mobile: str | None
    active: StrictBool


class PolicyUpsert(_Body):
    """Parent-report settings; null keeps the trust's (or the default) value."""

    approval_mode: Literal["automatic", "approve_first"] | None = None
    fallback_minutes: StrictInt | None = Field(default=None, ge=5, le=240)
    dsl_alert_time: str | None = Field(default=None, pattern=HHMM)
    trust_alert_time: str | None = Field(default=None, pattern=HHMM)
    quiet_start: str | None = Field(default=None, pattern=HHMM)
    quiet_end: str | None = Field(default=None, pattern=HHMM)


class PolicyView(BaseModel):
    """The settings in force for a school (its own over the trust's over the defaults)."""

    approval_mode: str
    fallback_minutes: StrictInt
    dsl_alert_time: str
    trust_alert_time: str
    quiet_start: str | None
    quiet_end: str | None
