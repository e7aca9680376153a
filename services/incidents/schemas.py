"""The incidents API's models (never tables)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

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
}


class IncidentCreate(BaseModel):
    """A significant incident as a school or its MIS records it."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={"examples": [EXAMPLE_INCIDENT]},
    )

    school_urn: str = Field(pattern=r"^\d{6}$", description="The school's URN")
    pupil_ref: str = Field(
        min_length=1, max_length=64, description="The pupil's reference in the school's MIS"
    )
    occurred_at: AwareDatetime = Field(description="When the intervention began")
    ended_at: AwareDatetime | None = Field(default=None, description="When it ended")
    intervention_type: str = Field(
        min_length=1,
        max_length=120,
        description="A trust vocabulary code, or a local label the trust has mapped to one",
    )
    summary: str = Field(min_length=1, max_length=10_000, description="What happened, and why")
    status: Literal["submitted"] = Field(
        default="submitted", description="Incidents are recorded as submitted"
    )
    source_system: str | None = Field(default=None, max_length=64)
    source_id: str | None = Field(default=None, max_length=128)


class Incident(BaseModel):
    """A recorded incident, as stored."""

    incident_id: str
    trust_id: str
    school_urn: str
    pupil_id: str
    pupil_ref: str
    status: str
    revision: int
    occurred_at: datetime
    ended_at: datetime | None
    duration_minutes: int | None
    local_date: str = Field(description="The incident's date in the school's time zone")
    intervention_type: str = Field(description="The canonical vocabulary code")
    intervention_label: str = Field(description="The label the record was given")
    vocabulary_version: int
    significant: bool
    summary: str
    historic: bool
    source_system: str | None
    source_id: str | None
    recorded_at: datetime
    recorded_by: str
