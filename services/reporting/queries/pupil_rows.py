"""Rows of counted incidents per pupil, for distinct pupils and who was affected: whole
academic years and months from the pupil rollups, other days from the facts."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from services.reporting import models as m
from services.reporting import rollups
from services.reporting.queries.base import Query, f, incident_cond, school_cond
from services.reporting.queries.spans import chunks

PUPIL_COLUMNS = ("pupil_id", "school_urn", "setting_type", *rollups.CHARACTERISTICS)
# The facts' characteristics key, built once (an expression is immutable, and building this
# one costs a request milliseconds).
FACT_KEY = rollups.characteristics_sql().label("characteristics")


def pupil_rollups(
    q: Query, years: list[int], months: list[int], columns: tuple[str, ...] = PUPIL_COLUMNS
) -> list[sa.Select[Any]]:
    """The pupil rollup rows of the caller's schools for whole academic years and months
    (``columns`` and ``incidents``)."""
    parts: list[sa.Select[Any]] = []
    for table, bucket, keys in (
        (m.pupil_year, "academic_year", years),
        (m.pupil_month, "month", months),
    ):
        if not keys:
            continue
        cond = (
            (table.c.trust_id == q.trust_id)
            & table.c[bucket].in_(keys)
            & school_cond(q, table.c.school_urn)
        )
        if q.setting_type:
            cond = cond & (table.c.setting_type == q.setting_type)
        parts.append(
            sa.select(*(table.c[c] for c in columns), table.c.incidents.label("incidents")).where(
                cond
            )
        )
    return parts


def pupil_source(
    q: Query,
    first: date | None = None,
    last: date | None = None,
    columns: tuple[str, ...] = (*PUPIL_COLUMNS, "characteristics"),
) -> sa.SelectBase:
    """Rows of counted incidents per pupil (by default also by school and characteristics
    as recorded, and their key; or by ``columns`` of those) between two dates, for the
    caller to sum: whole academic years and months from the pupil rollups, other days one
    row per fact (``incidents`` 1). The facts are not grouped here: the caller's one
    grouping over every part costs less than a grouping per part and another over them."""
    first, last = first or q.period.from_date, last or q.period.to_date
    years, months, days = chunks(first, last)
    parts = pupil_rollups(q, years, months, columns)
    cols = [FACT_KEY if c == "characteristics" else f.c[c] for c in columns]
    for a, b in days:
        parts.append(
            sa.select(*cols, sa.literal(1).label("incidents")).where(incident_cond(q, a, b))
        )
    if not parts:
        # An empty range: no rows, with the right columns.
        return sa.select(*cols, sa.literal(0).label("incidents")).where(sa.false())
    return parts[0] if len(parts) == 1 else sa.union_all(*parts)
