"""API models shared by every service."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

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


# Request fields take JSON as the schema says, not as Python would coerce it: a boolean is
# true or false (never 0 or "yes"), a date-time an RFC 3339 string with an offset (never a
# number of seconds), a date YYYY-MM-DD. Responses pass through unchanged.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _rfc3339(value: Any) -> Any:
    if isinstance(value, str):
        if not _RFC3339.match(value):
            raise ValueError("must be an RFC 3339 date-time with offset, e.g. 2026-11-27T10:05:00Z")
    elif not isinstance(value, datetime):
        raise ValueError("must be an RFC 3339 date-time string")
    return value


def _iso_date(value: Any) -> Any:
    if isinstance(value, str):
        if not _ISO_DATE.match(value):
            raise ValueError("must be a date as YYYY-MM-DD")
    elif not isinstance(value, date):
        raise ValueError("must be a date string YYYY-MM-DD")
    return value


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339)]
LocalDate = Annotated[date, BeforeValidator(_iso_date)]
