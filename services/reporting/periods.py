"""Periods: academic years (September to August), terms, date ranges, and intervals."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

TERMS = ("autumn", "spring", "summer")


def academic_year_of(d: date) -> int:
    """The starting year of the academic year ``d`` falls in (September starts a year)."""
    return d.year if d.month >= 9 else d.year - 1


def year_label(start_year: int) -> str:
    """``2026`` -> ``2026/27``."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


# The dates reports can be asked about: wide enough for any record, narrow enough that a
# period, the one before it and its intervals stay real dates.
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


def parse_academic_year(text: str) -> int:
    """``2026/27``, ``2026-27`` or ``2026`` -> 2026; ValueError otherwise."""
    head, sep, tail = text.replace("-", "/").partition("/")
    if not (head.isdigit() and len(head) == 4):
        raise ValueError("expected YYYY/YY, e.g. 2026/27")
    start = int(head)
    if sep and tail != f"{(start + 1) % 100:02d}":
        raise ValueError("the second year must follow the first, e.g. 2026/27")
    if not EARLIEST.year <= start < LATEST.year:
        raise ValueError(
            f"from {EARLIEST.year}/{EARLIEST.year % 100 + 1:02d} to "
            f"{LATEST.year - 1}/{LATEST.year % 100:02d}"
        )
    return start


def date_problem(value: date | None) -> str | None:
    """Why a date cannot be reported on (None: it can)."""
    if value is not None and not EARLIEST <= value <= LATEST:
        return f"between {EARLIEST.isoformat()} and {LATEST.isoformat()}"
    return None


def term_bounds(
    start_year: int, term: str, term_dates: list[dict[str, Any]] | None = None
) -> tuple[date, date]:
    """A term's first and last local dates: the trust's dates, else the default terms."""
    for t in term_dates or []:
        if t["academic_year"] == start_year and t["term"] == term:
            return date.fromisoformat(t["start_date"]), date.fromisoformat(t["end_date"])
    if term == "autumn":
        return date(start_year, 9, 1), date(start_year, 12, 31)
    if term == "spring":
        return date(start_year + 1, 1, 1), date(start_year + 1, 3, 31)
    return date(start_year + 1, 4, 1), date(start_year + 1, 8, 31)


@dataclass(frozen=True)
class Period:
    """Inclusive local dates, what they are called, and how to find the one before."""

    from_date: date
    to_date: date
    label: str
    kind: str  # academic_year, term or range
    academic_year: int
    term: str | None = None

    def previous(self, term_dates: list[dict[str, Any]] | None = None) -> Period:
        """The period before: last year, last term, or as many days just before."""
        if self.kind == "academic_year":
            return academic_year_period(self.academic_year - 1)
        if self.kind == "term" and self.term:
            i = TERMS.index(self.term)
            year = self.academic_year if i else self.academic_year - 1
            return term_period(year, TERMS[i - 1], term_dates)
        days = (self.to_date - self.from_date).days + 1
        end = self.from_date - timedelta(days=1)
        return range_period(end - timedelta(days=days - 1), end)


def academic_year_period(start_year: int) -> Period:
    """1 September to 31 August."""
    return Period(
        date(start_year, 9, 1),
        date(start_year + 1, 8, 31),
        year_label(start_year),
        "academic_year",
        start_year,
    )


def term_period(start_year: int, term: str, term_dates: list[dict[str, Any]] | None) -> Period:
    """One term of an academic year."""
    first, last = term_bounds(start_year, term, term_dates)
    return Period(first, last, f"{term} {year_label(start_year)}", "term", start_year, term)


def range_period(first: date, last: date) -> Period:
    """Any inclusive range of local dates (the roll is that of the year it ends in)."""
    return Period(
        first, last, f"{first.isoformat()}..{last.isoformat()}", "range", academic_year_of(last)
    )


def resolve(
    today: date,
    academic_year: int | None,
    term: str | None,
    from_date: date | None,
    to_date: date | None,
    term_dates: list[dict[str, Any]] | None = None,
) -> Period:
    """The period asked for; by default the current academic year."""
    if from_date or to_date:
        year = academic_year_of(to_date or from_date or today)
        first = from_date or date(year, 9, 1)
        last = to_date or max(first, today)
        return range_period(first, last)
    year = academic_year if academic_year is not None else academic_year_of(today)
    if term:
        return term_period(year, term, term_dates)
    return academic_year_period(year)


def buckets(
    period: Period, interval: str, term_dates: list[dict[str, Any]] | None = None
) -> list[tuple[str, date, date]]:
    """The period cut into weeks (from Monday), months or terms, clipped to the period."""
    out: list[tuple[str, date, date]] = []
    start = period.from_date
    while start <= period.to_date:
        if interval == "week":
            monday = start - timedelta(days=start.weekday())
            end = monday + timedelta(days=6)
            label = f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"
        elif interval == "month":
            end = date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
            label = f"{start.year}-{start.month:02d}"
        else:
            year = academic_year_of(start)
            label, end = "", start
            for t in TERMS:
                first, last = term_bounds(year, t, term_dates)
                if first <= start <= last:
                    label, end = f"{t} {year_label(year)}", last
                    break
            if not label:  # a holiday between trust terms: up to the next term
                nxt = [term_bounds(y, t, term_dates)[0] for y in (year, year + 1) for t in TERMS]
                end = min([d for d in nxt if d > start], default=period.to_date + timedelta(1))
                end -= timedelta(days=1)
                label = f"holiday {start.isoformat()}"
        end = min(end, period.to_date)
        out.append((label, start, end))
        start = end + timedelta(days=1)
    return out
