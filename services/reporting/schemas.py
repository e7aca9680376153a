"""The reporting API's models: aggregates only, never a pupil identifier."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from services.reporting.disclosure import Count, Stat


class Period(BaseModel):
    """The local dates a report covers (inclusive)."""

    from_date: date | None = None
    to_date: date | None = None
    label: str | None = Field(default=None, examples=["2026/27", "autumn 2026/27"])
    kind: str | None = Field(default=None, description="academic_year, term or range")


class ReportBase(BaseModel):
    """What every report states: whose, which period, which vocabulary, how fresh."""

    trust_id: str
    period: Period
    vocabulary_version: int | None = Field(description="The trust vocabulary version in force")
    data_as_of: datetime | None = Field(description="Time of the last event applied")
    suppression_threshold: int | None = Field(
        description="Counts from 1 to this are withheld for this audience; null if none"
    )
    setting_type: str | None = None
    school_urn: str | None = None


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


class Rates(BaseModel):
    """Per 100 pupils on roll (not annualised)."""

    incidents: Stat
    restraint: Stat
    seclusion: Stat
    other: Stat
    pupils: Stat = Field(description="Distinct pupils affected per 100 on roll")


class Change(BaseModel):
    """The previous period, and the change from it."""

    period: Period
    incidents: Count
    change: Count = Field(description="Incidents this period minus the previous (may be < 0)")
    change_share: Stat = Field(description="Change as a fraction of the previous period")


class TrustSummary(ReportBase):
    """Headline numbers for a trust."""

    incidents: IncidentCounts
    pupils: Count = Field(description="Distinct pupils involved")
    top_decile_share: Stat = Field(
        description="Share of incidents involving the most-affected 10% of those pupils"
    )
    roll: Count = Field(description="Pupils on roll in the period's academic year")
    rates: Rates
    previous: Change
    schools: list[SchoolCount]
    parent_reports_sent: Count


class ParentReports(BaseModel):
    """Parent reports of the period's incidents (one per parent)."""

    reports: Count
    met: Count
    met_share: Stat
    missed: Count
    withheld: Count
    median_minutes_to_delivery: Stat
    p90_minutes_to_delivery: Stat


class SchoolRow(BaseModel):
    """One school beside its setting-type peers."""

    school_urn: str
    name: str
    setting_type: str
    roll: Count
    incidents: Count
    rate: Stat = Field(description="Incidents per 100 on roll")
    peer_rate: Stat = Field(description="Incidents per 100 on roll across its setting type")
    seclusion: Count
    seclusion_share: Stat
    ground_restraint: Count
    pupil_injuries: Count
    staff_injuries: Count
    late_records: Count = Field(description="Recorded after the local day after the incident")
    on_time_share: Stat = Field(description="Share recorded by the end of the next local day")
    parent_reports: ParentReports
    flagged_practices: Count
    training_coverage: Stat = Field(description="Share of staff needing training with it in date")


class SchoolsReport(ReportBase):
    """Each school beside its peers."""

    schools: list[SchoolRow]
