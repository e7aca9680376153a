"""Models of the analytical reports: disproportionality, outliers, trends, training, audit."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from services.reporting.disclosure import Count, Stat
from services.reporting.schemas import ReportBase


class GroupRow(BaseModel):
    """One group of one characteristic against its comparator."""

    dimension: str = Field(
        examples=["sen", "fsm", "fsm_ever6", "gender", "ethnicity", "year_group"]
    )
    group: str
    comparator: str = Field(description="'N' (no SEN) for E and K; 'others' otherwise")
    roll: Count
    incidents: Count
    pupils: Count = Field(description="Distinct pupils affected")
    incidents_per_100: Stat
    pupils_per_100: Stat
    risk_ratio: Stat = Field(description="Pupils affected per head against the comparator")
    ci_lower: Stat = Field(description="95% interval, log (Katz) method")
    ci_upper: Stat
    significant: bool | None = Field(description="Whether the interval excludes 1")


class DisproportionalityReport(ReportBase):
    """Who is affected, per 100 on roll, by characteristic."""

    groups: list[GroupRow]


class FunnelRow(BaseModel):
    """One school's count against the funnel around its setting type's rate."""

    school_urn: str
    name: str
    setting_type: str
    metric: str = Field(examples=["incidents", "seclusion"])
    roll: Count
    observed: Count
    expected: float | None = Field(description="Setting-type rate times the school's roll")
    rate: Stat = Field(description="Per 100 on roll")
    target_rate: float | None = Field(description="The setting type's rate per 100 on roll")
    lower_95: float | None = Field(description="Limits as rates per 100 on roll")
    upper_95: float | None
    lower_99_8: float | None
    upper_99_8: float | None
    position_95: str | None = Field(description="below, within or above")
    position_99_8: str | None


class Signal(BaseModel):
    """A school singled out, and why."""

    school_urn: str
    name: str
    signal: str = Field(
        examples=[
            "incidents_below_99.8",
            "seclusion_above_99.8",
            "injuries_with_few_incidents",
            "late_records",
            "late_parent_reports",
            "rising_staff_injuries",
        ]
    )
    detail: str


class OutliersReport(ReportBase):
    """Funnel-plot positions and the schools singled out."""

    funnels: list[FunnelRow]
    signals: list[Signal]


class TrendPoint(BaseModel):
    """One interval of a series."""

    label: str
    from_date: date
    to_date: date
    value: Count | None = None
    rate: Stat | None = None


class TrendsReport(ReportBase):
    """A metric as a time series."""

    metric: str
    interval: str
    points: list[TrendPoint]


class TrainingRow(BaseModel):
    """Training coverage at one school."""

    school_urn: str
    name: str
    staff: Count = Field(description="Active staff in roles that need training")
    trained: Count = Field(description="Of whom with training in date")
    trained_share: Stat
    expiring_90_days: Count = Field(description="In-date certificates expiring within 90 days")
    incidents_with_untrained_staff: Count


class TrainingReport(ReportBase):
    """Trained staff share, certificates expiring, incidents with staff out of date."""

    as_at: date
    schools: list[TrainingRow]


class AuditItemRow(BaseModel):
    """One audit item: answered from the data where it can be, else by the trust leads."""

    school_urn: str
    item: str
    answer: str | None
    source: str = Field(description="data, trust_lead or none")
    trust_lead_answer: str | None = None


class AuditReport(ReportBase):
    """The trust's policy and data audit, per school."""

    items: list[AuditItemRow]
