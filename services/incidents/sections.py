"""The sections of the trust record (DOMAIN §5) as the API takes and gives them.

Every field is optional here so that a draft may be incomplete; what a submission must
hold is decided by ``record.check_record``, which names every gap at once.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from shared.schemas import Timestamp

Text = str
Position = Literal["standing", "seated", "kneeling", "ground_supine", "ground_prone"]
Purpose = Literal[
    "prevent_injury",
    "prevent_offence",
    "prevent_damage",
    "prevent_disorder",
    "punishment",
    "compliance",
]
RiskTo = Literal["self", "pupils", "staff", "property", "public"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Risk(_In):
    """What risk was presented, to whom, how severe."""

    presented: str | None = Field(default=None, max_length=4000)
    to: list[RiskTo] | None = None
    severity: Literal["low", "medium", "high"] | None = None


class Alternatives(_In):
    """De-escalation tried (vocabulary labels) and why it was not enough."""

    strategies: list[str] | None = Field(default=None, max_length=30)
    why_insufficient: str | None = Field(default=None, max_length=4000)


class InterventionIn(_In):
    """One intervention: the duration is derived from its times, never typed."""

    type: str | None = Field(default=None, max_length=120, description="Code or local label")
    technique: str | None = Field(
        default=None, max_length=120, description="Canonical technique or provider's hold name"
    )
    position: Position | None = None
    purpose: Purpose | None = Field(default=None, description="Why force was used")
    started_at: Timestamp | None = None
    ended_at: Timestamp | None = None
    staff: list[str] | None = Field(
        default=None, max_length=20, description="Staff references, as registered"
    )
    supervised_throughout: StrictBool | None = Field(
        default=None, description="Seclusion: was the pupil supervised throughout?"
    )


class Attestation(_In):
    """One limb of the decision test, attested with a reason."""

    attested: StrictBool | None = None
    reason: str | None = Field(default=None, max_length=4000)


class DecisionTest(_In):
    """Necessity, proportionality, shortest time, welfare (DOMAIN §3)."""

    necessity: Attestation | None = None
    proportionality: Attestation | None = None
    shortest_time: Attestation | None = None
    welfare: Attestation | None = None


class Welfare(_In):
    """Monitoring during and after, and the medical check."""

    monitoring: str | None = Field(default=None, max_length=4000)
    medical_check: StrictBool | None = None
    medical_check_by: str | None = Field(default=None, max_length=200)


class Injury(_In):
    """An injury to anyone involved."""

    person: Literal["pupil", "staff", "other"] | None = None
    staff_ref: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=2000)
    treatment: str | None = Field(default=None, max_length=2000)
    riddor_reportable: StrictBool | None = None


class Aftercare(_In):
    """Debriefs and support offered."""

    pupil_debrief: str | None = Field(default=None, max_length=4000)
    staff_debrief: str | None = Field(default=None, max_length=4000)
    support_offered: str | None = Field(default=None, max_length=4000)


class ParentReportIn(_In):
    """The recorder's say on the parent report."""

    already_told_in_writing: StrictBool = Field(
        default=False, description="Parents were handed written details by the school"
    )
    told_at: Timestamp | None = None
    told_by: str | None = Field(default=None, max_length=200)
    told_how: str | None = Field(default=None, max_length=200)
    safeguarding_hold: StrictBool = Field(
        default=False, description="Hold the report for the DSL: nothing is sent until released"
    )
    hold_reason: str | None = Field(default=None, max_length=2000)


class StrategyOut(BaseModel):
    """A de-escalation strategy: the label given and its canonical code."""

    label: str
    code: str | None


class StaffInvolved(BaseModel):
    """A member of staff involved, with their training status for the technique."""

    staff_ref: str
    name: str
    training_in_date: StrictBool | None = None


class InterventionOut(BaseModel):
    """An intervention as stored: labels kept beside canonical terms, duration derived."""

    type_label: str
    type: str
    technique_label: str | None = None
    technique: str | None = None
    position: str | None = None
    technique_staff_count: StrictInt | None = Field(
        default=None, description="Staff the hold takes, as its provider's mapping says"
    )
    purpose: str | None = None
    started_at: Timestamp
    ended_at: Timestamp
    duration_minutes: StrictInt
    staff: list[StaffInvolved]
    supervised_throughout: StrictBool | None = None


class People(BaseModel):
    """Names, for the written report and staff views; never in reporting or logs."""

    pupil_name: str
    pupil_legal_name: str
    staff: list[StaffInvolved]


class Flag(BaseModel):
    """A rule's finding, stored on the record and emitted as ``practice.flagged.v1``."""

    code: str
    severity: Literal["info", "warning", "serious"]
    detail: str
    pointer: str | None = None


class Review(BaseModel):
    """The school lead's or DSL's review."""

    reviewed_by: str
    reviewed_at: Timestamp
    outcome: str
    support_plan_changed: StrictBool
    handling_plan_changed: StrictBool = False
