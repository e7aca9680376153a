"""API models shared by every service."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class ProblemItem(BaseModel):
    """One field-level problem."""

    pointer: str = Field(description="JSON pointer (RFC 6901) to the offending field")
    detail: str


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemItem] | None = None


class Page(BaseModel, Generic[T]):
    """One page of a cursor-paginated list."""

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page"
    )


class Health(BaseModel):
    """Liveness or readiness."""

    status: str
    service: str
    checks: dict[str, str] = Field(default_factory=dict)
