"""The incidents API's models (never tables)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from services.incidents.sections import (
    Aftercare,
    Alternatives,
    DecisionTest,
    Flag,
    Injury,
    InterventionIn,
    InterventionOut,
    ParentReportIn,
    People,
    Review,
    Risk,
    StrategyOut,
    Welfare,
)
from shared.schemas import Timestamp

EXAMPLE_INCIDENT: dict[str, Any] = {
    "school_urn": "100001",
    "pupil_ref": "DEMO-0001",
    "occurred_at": "2026-11-27T10:05:00+00:00",
    "ended_at": "2026-11-27T10:12:00+00:00",
    "intervention_type": "time out",
    "summary": (
        "Pupil became distressed in the corridor after break and began hitting out at peers. "
        "Verbal reassurance and offering the calm area were tried first. Pupil was escorted to "
        "the quiet room and supervised throughout until calm; ended after seven minutes."
    ),
    "source_system": "demo-mis",
    "source_id": "INC-2026-0001",
    "planned": False,
    "location": "Year 4 corridor",
    "activity": "Returning to class after morning break",
    "antecedents": "A disagreement over a football at break; pupil was upset on lining up.",
    "triggers": "Being asked to line up quietly while still upset",
    "risk": {
        "presented": "Hitting out at peers in a crowded corridor",
        "to": ["pupils", "self"],
        "severity": "medium",
    },
    "alternatives": {
        "strategies": ["reassurance", "calm area"],
        "why_insufficient": "Pupil continued to hit out and could not move to the calm area.",
    },
    "interventions": [
        {
            "type": "time out",
            "technique": "escort",
            "position": "standing",
            "purpose": "prevent_injury",
            "started_at": "2026-11-27T10:05:00+00:00",
            "ended_at": "2026-11-27T10:12:00+00:00",
            "staff": ["STF-1001"],
            "supervised_throughout": True,
        }
    ],
    "decision_test": {
        "necessity": {"attested": True, "reason": "Peers were being hit; talk did not help."},
        "proportionality": {"attested": True, "reason": "An escort and quiet room, no hold."},
        "shortest_time": {"attested": True, "reason": "Ended as soon as the pupil was calm."},
        "welfare": {"attested": True, "reason": "Breathing and distress watched throughout."},
    },
    "welfare": {
        "monitoring": "Supervised through the open door; checked again at lunch.",
        "medical_check": True,
        "medical_check_by": "School first aider",
    },
    "injuries": [],
    "aftercare": {
        "pupil_debrief": "Talked it through with the class teacher before lunch.",
        "staff_debrief": "Brief debrief with the phase lead.",
        "support_offered": "Check-in at the start of each afternoon this week.",
    },
    "parent_report": {"already_told_in_writing": False, "safeguarding_hold": False},
}


# What a submission must hold (a draft may lack any of it); check_record enforces the rest.
REQUIRED_FOR_SUBMISSION = [
    "school_urn",
    "pupil_ref",
    "occurred_at",
    "ended_at",
    "intervention_type",
    "summary",
    "planned",
    "location",
    "antecedents",
    "triggers",
    "risk",
    "alternatives",
    "interventions",
    "decision_test",
    "welfare",
    "injuries",
    "aftercare",
]


def _submission_schema(schema: dict[str, Any]) -> None:
    schema["examples"] = [EXAMPLE_INCIDENT]
    # Published as required for a submission; drafts ("status": "draft") are exempt.
    schema["required"] = list(REQUIRED_FOR_SUBMISSION)


class IncidentCreate(BaseModel):
    """A significant incident as a school or its MIS records it (DOMAIN §5).

    Every field may be absent from a draft; a submission must be complete, and a refused
    one is answered with every problem at once, each with its JSON pointer.
    """

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra=_submission_schema,
    )

    school_urn: str | None = Field(default=None, pattern=r"^\d{6}$", description="School URN")
    pupil_ref: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The pupil's reference in the school's MIS",
    )
    occurred_at: Timestamp | None = Field(default=None, description="When it began")
    ended_at: Timestamp | None = Field(default=None, description="When it ended")
    intervention_type: str | None = Field(
        default=None,
        min_length=1,
        max_length=120,
        description="A trust vocabulary code, or a local label the trust has mapped to one",
    )
    summary: str | None = Field(
        default=None, min_length=1, max_length=10_000, description="What happened, and why"
    )
    status: Literal["submitted", "draft"] = Field(
        default="submitted", description="'draft' keeps an incomplete record to finish later"
    )
    source_system: str | None = Field(default=None, max_length=64)
    source_id: str | None = Field(default=None, max_length=128)
    planned: StrictBool | None = Field(
        default=None, description="In the pupil's behaviour support or handling plan"
    )
    location: str | None = Field(default=None, max_length=200)
    activity: str | None = Field(default=None, max_length=500)
    antecedents: str | None = Field(default=None, max_length=4000)
    triggers: str | None = Field(default=None, max_length=4000)
    risk: Risk | None = None
    alternatives: Alternatives | None = None
    interventions: list[InterventionIn] | None = Field(default=None, max_length=20)
    decision_test: DecisionTest | None = None
    welfare: Welfare | None = None
    injuries: list[Injury] | None = Field(default=None, max_length=20)
    aftercare: Aftercare | None = None
    parent_report: ParentReportIn | None = None


class IncidentDraft(BaseModel):
    """A draft: kept as given, with what still stands between it and submission."""

    incident_id: str
    trust_id: str
    school_urn: str
    status: Literal["draft"] = "draft"
    revision: StrictInt = 0
    body: dict[str, Any]
    problems: list[dict[str, str]] = Field(description="What submission would refuse, by pointer")
    created_by: str
    created_at: Timestamp
    updated_at: Timestamp


class Incident(BaseModel):
    """A recorded incident, as stored."""

    incident_id: str
    trust_id: str
    school_urn: str
    pupil_id: str
    pupil_ref: str
    status: str
    revision: StrictInt
    occurred_at: Timestamp
    ended_at: Timestamp | None
    duration_minutes: StrictInt | None
    local_date: str = Field(description="The incident's date in the school's time zone")
    intervention_type: str = Field(description="The canonical vocabulary code")
    intervention_label: str = Field(description="The label the record was given")
    vocabulary_version: StrictInt
    significant: StrictBool
    summary: str
    historic: StrictBool
    source_system: str | None
    source_id: str | None
    recorded_at: Timestamp
    recorded_by: str
    planned: StrictBool | None = None
    location: str | None = None
    activity: str | None = None
    antecedents: str | None = None
    triggers: str | None = None
    risk: Risk | None = None
    alternatives: Alternatives | None = None
    strategies: list[StrategyOut] | None = None
    interventions: list[InterventionOut] | None = None
    decision_test: DecisionTest | None = None
    welfare: Welfare | None = None
    injuries: list[Injury] | None = None
    aftercare: Aftercare | None = None
    parent_report: ParentReportIn | None = None
    people: People | None = None
    flags: list[Flag] = Field(default_factory=list)
    review: Review | None = None
    closed_at: Timestamp | None = None
