"""The notifications API's models."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class MessageView(BaseModel):
    """One message sent for a report."""

    message_id: str
    channel: str
    provider: str
    recipient: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None


class ParentReportView(BaseModel):
    """A parent report and its timeline."""

    report_id: str
    incident_id: str
    school_urn: str
    contact_id: str
    status: str
    created_at: datetime
    sent_at: datetime | None
    messages: list[MessageView]
