"""The parent-report clock in the school's local time, correct across daylight-saving changes.

Every wall-clock moment ("16:30 on the incident's day") is built from the local date and
the school's IANA zone, then converted to UTC; nothing adds hours to a UTC time, so a day
of 23 or 25 hours (the clocks changing) gets its 16:30 and its midnight right.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import models as m

TRUST_WIDE = "*"


@dataclass(frozen=True)
class Policy:
    """A school's parent-report settings (trust settings with the school's overrides)."""

    approval_mode: str = "automatic"  # or approve_first
    fallback_minutes: int = 30
    dsl_alert_time: time = time(16, 30)
    trust_alert_time: time = time(18, 0)
    quiet_start: time | None = time(21, 0)
    quiet_end: time | None = time(7, 0)
    pursue_time: time = time(8, 0)  # a missed report's daily reminder, from the next day


DEFAULT_POLICY = Policy()


def _hhmm(value: str | None) -> time | None:
    if not value:
        return None
    hh, mm = value.split(":")
    return time(int(hh), int(mm))


async def policy_for(conn: AsyncConnection, trust_id: str, school_urn: str) -> Policy:
    """The school's settings: its own row over the trust's row over the defaults."""
    p = m.report_policy
    rows = {
        r.school_urn: r
        for r in (
            await conn.execute(
                sa.select(p).where(
                    (p.c.trust_id == trust_id) & p.c.school_urn.in_([TRUST_WIDE, school_urn])
                )
            )
        ).all()
    }
    layered = [rows.get(school_urn), rows.get(TRUST_WIDE)]

    def pick(column: str) -> object | None:
        for row in layered:
            if row is not None and getattr(row, column) is not None:
                return getattr(row, column)
        return None

    d = DEFAULT_POLICY
    return Policy(
        approval_mode=str(pick("approval_mode") or d.approval_mode),
        fallback_minutes=int(pick("fallback_minutes") or d.fallback_minutes),  # type: ignore[call-overload]
        dsl_alert_time=_hhmm(pick("dsl_alert_time")) or d.dsl_alert_time,  # type: ignore[arg-type]
        trust_alert_time=_hhmm(pick("trust_alert_time")) or d.trust_alert_time,  # type: ignore[arg-type]
        quiet_start=_hhmm(pick("quiet_start")) or d.quiet_start,  # type: ignore[arg-type]
        quiet_end=_hhmm(pick("quiet_end")) or d.quiet_end,  # type: ignore[arg-type]
    )


def local_date(at: datetime, zone: str) -> date:
    """The school's calendar date at the instant ``at``."""
    return at.astimezone(ZoneInfo(zone)).date()


def at_local(day: date, wall: time, zone: str) -> datetime:
    """The UTC instant of ``wall`` o'clock on ``day`` in ``zone``.

    A wall time that happens twice (the hour the clocks go back) is taken at its first
    occurrence; one that never happens (the hour they go forward) at the later offset.
    """
    return datetime.combine(day, wall, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def end_of_day(day: date, zone: str) -> datetime:
    """The deadline: local midnight at the end of ``day`` (23, 24 or 25 hours after its start)."""
    return at_local(day + timedelta(days=1), time(0, 0), zone)


def not_before(moment: datetime, now: datetime) -> datetime:
    """``moment``, or now if that has passed (an incident recorded after 16:30 alerts at once)."""
    return max(moment, now)


def outside_quiet_hours(at: datetime, zone: str, policy: Policy) -> datetime:
    """The first moment from ``at`` when a text message may go (quiet hours hold SMS back)."""
    if policy.quiet_start is None or policy.quiet_end is None:
        return at
    local = at.astimezone(ZoneInfo(zone))
    wall = local.time()
    start, end = policy.quiet_start, policy.quiet_end
    if start > end:  # overnight, e.g. 21:00-07:00
        if wall >= start:
            return at_local(local.date() + timedelta(days=1), end, zone)
        if wall < end:
            return at_local(local.date(), end, zone)
        return at
    if start <= wall < end:
        return at_local(local.date(), end, zone)
    return at


def same_local_day(at: datetime, day: str, zone: str) -> bool:
    """Whether ``at`` falls on the local date ``day`` (ISO) of the school."""
    return local_date(at, zone).isoformat() == day
