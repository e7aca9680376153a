"""The envelope every event travels in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class EventEnvelope(BaseModel):
    """One event as it leaves a service: ids, order, tenancy, and its typed payload."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: uuid.UUID
    type: str = Field(pattern=r"^[a-z_]+\.[a-z_]+\.v\d+$", examples=["incident.submitted.v1"])
    sequence: int = Field(ge=1, description="Per producing service, gap-free, in publish order")
    producer: str
    occurred_at: AwareDatetime
    trust_id: str = Field(pattern=r"^TR\d{5}$")
    school_urn: str | None = Field(default=None, pattern=r"^\d{6}$")
    subject_id: str
    subject_revision: int = Field(ge=1)
    payload: dict[str, Any]

    @property
    def name(self) -> str:
        """The type without its version: ``incident.submitted``."""
        return self.type.rsplit(".", 1)[0]

    def occurred(self) -> datetime:
        """When the event happened."""
        return self.occurred_at
