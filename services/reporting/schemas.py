"""The reporting API's models: aggregates only, never a pupil identifier."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from services.reporting.disclosure import Count


class Period(BaseModel):
    """The local dates a report covers (inclusive); null means unbounded."""

    from_date: date | None = None
    to_date: date | None = None


class IncidentCounts(BaseModel):
    """Incidents by kind."""

    total: Count = Field(description="Significant incidents")
    restraint: Count = Field(description="Physical and mechanical restraint")
    seclusion: Count
    other: Count = Field(description="Other restrictive interventions (reasonable force, ...)")


class SchoolCount(BaseModel):
    """One school's significant incidents."""

    school_urn: str
    name: str
    setting_type: str
    incidents: Count


class TrustSummary(BaseModel):
    """Headline numbers for a trust."""

    trust_id: str
    period: Period
    data_as_of: datetime | None = Field(description="When the last event applied was processed")
    suppression_threshold: int | None = Field(
        description="Counts from 1 to this are withheld for this audience; null if none"
    )
    incidents: IncidentCounts
    schools: list[SchoolCount]
    parent_reports_sent: Count
