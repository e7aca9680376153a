"""A period cut into what the rollups hold: whole academic years, whole months, whole
weeks, and the days left over."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from services.reporting import rollups


def chunks(first: date, last: date) -> tuple[list[int], list[int], list[tuple[date, date]]]:
    """Split a date range into whole academic years, whole months and the days left over."""
    years: list[int] = []
    months: list[int] = []
    days: list[tuple[date, date]] = []
    cursor = first
    while cursor <= last:
        if cursor.month == 9 and cursor.day == 1 and date(cursor.year + 1, 8, 31) <= last:
            years.append(cursor.year)
            cursor = date(cursor.year + 1, 9, 1)
            continue
        next_month = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
        if cursor.day == 1 and next_month - timedelta(days=1) <= last:
            months.append(rollups.month_index(cursor))
        else:
            end = min(last, next_month - timedelta(days=1))
            if days and days[-1][1] + timedelta(days=1) == cursor:
                days[-1] = (days[-1][0], end)
            else:
                days.append((cursor, end))
        cursor = next_month
    return years, months, days


def whole_months(first: date, last: date) -> tuple[list[int], list[tuple[date, date]]]:
    """The whole calendar months between two dates (consecutive month indexes, as the
    monthly rollups key them) and the runs of days left over."""
    years, months, days = chunks(first, last)
    # An academic year is September to August: months 8..19 after its calendar year's start.
    return sorted({*months, *(y * 12 + k for y in years for k in range(8, 20))}), days


def whole_weeks(
    runs: list[tuple[date, date]],
) -> tuple[list[tuple[int, int]], list[tuple[date, date]]]:
    """Within runs of days, the runs of whole weeks (Monday to Sunday; first and last week
    index, as the weekly rollups key them) and the days left over."""
    weeks: list[tuple[int, int]] = []
    days: list[tuple[date, date]] = []
    for a, b in runs:
        monday = a + timedelta(days=-a.weekday() % 7)  # the first Monday from a
        sunday = b - timedelta(days=(b.weekday() + 1) % 7)  # the last Sunday to b
        if monday > sunday:
            days.append((a, b))
            continue
        weeks.append((rollups.week_index(monday), rollups.week_index(sunday)))
        if a < monday:
            days.append((a, monday - timedelta(days=1)))
        if sunday < b:
            days.append((sunday + timedelta(days=1), b))
    return weeks, days


def interval_of(
    dialect: str, day: sa.ColumnElement[date], cuts: list[tuple[str, date, date]]
) -> sa.ColumnElement[int]:
    """Which of ``cuts`` (intervals running on from one another) a day falls in, by index:
    in PostgreSQL, how many interval starts are on or before it, less one."""
    if dialect == "postgresql":
        starts = sa.bindparam("starts", [c[1] for c in cuts], type_=pg.ARRAY(sa.Date))
        return sa.func.width_bucket(day, starts) - 1
    return sa.case(*((day <= last, i) for i, (_, _, last) in enumerate(cuts)))
