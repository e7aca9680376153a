"""The notifications API's models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from shared.schemas import Timestamp


class MessageView(BaseModel):
    """One message sent for a report (recipient masked)."""

    message_id: str
    channel: str
    provider: str
    recipient: str
    recipient_kind: str
    step: str
    purpose: str
    status: str
    attempts: StrictInt
    created_at: Timestamp
    sent_at: Timestamp | None
    delivered_at: Timestamp | None


class StepView(BaseModel):
    """One step of the report's clock."""

    step: str
    due_at: Timestamp
    status: str
    done_at: Timestamp | None
    detail: str | None


class TimelineEntry(BaseModel):
    """One status change, with its time."""

    at: Timestamp
    kind: str
    detail: dict[str, Any]


class ParentReportView(BaseModel):
    """A parent report, its standard, and its timeline."""

    report_id: str
    incident_id: str
    school_urn: str
    contact_id: str
    kind: str
    status: str
    hold: str | None
    standard: str | None = Field(description="met, missed, withheld or not_required")
    standard_reason: str | None
    local_date: str
    deadline_at: Timestamp | None
    created_at: Timestamp
    sent_at: Timestamp | None
    told_at: Timestamp | None
    told_how: str | None
    messages: list[MessageView]
    steps: list[StepView]
    timeline: list[TimelineEntry]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WithholdBody(_Body):
    """Why telling this parent seems likely to cause significant harm."""

    reason: str = Field(min_length=1, max_length=2000)


class ContactRecord(_Body):
    """A phone call, a conversation in person, or a written report handed over."""

    method: Literal["phone", "in_person", "written_handed_over"]
    at: Timestamp
    outcome: Literal["reached", "not_reached"] = "reached"
    by: str | None = Field(default=None, max_length=200)


class LocalAuthorityRecord(_Body):
    """The local authority was told, as no parent could be told safely."""

    local_authority: str = Field(min_length=1, max_length=200)
    at: Timestamp
    method: Literal["phone", "email", "secure_email", "letter", "in_person"]


class ResendView(BaseModel):
    """A resend was planned as a new step."""

    report_id: str
    step: str
