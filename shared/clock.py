"""Time, injected: production reads the system clock, tests move a frozen one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._at = at.astimezone(UTC)

    def now(self) -> datetime:
        """The frozen time."""
        return self._at

    def set(self, at: datetime) -> None:
        """Move to ``at``."""
        self._at = at.astimezone(UTC)

    def advance(self, **kwargs: float) -> datetime:
        """Move forward by a timedelta given as keywords."""
        self._at += timedelta(**kwargs)
        return self._at


def utcnow() -> datetime:
    """The system time in UTC (for code with no injected clock)."""
    return datetime.now(UTC)
