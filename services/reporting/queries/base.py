"""What every report shares: the caller's scope, the period, and the trust's settings."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting import periods, rollups
from services.reporting.config import DEFAULT_SUPPRESSION_THRESHOLD
from services.reporting.linked import ALL
from services.reporting.periods import Period
from services.reporting.queries.spans import whole_months
from shared.auth.principal import AGGREGATE_ONLY_ROLES, Principal
from shared.clock import Clock
from shared.errors import NotFound, ValidationFailed

RESTRAINT = rollups.RESTRAINT
SECLUSION = rollups.SECLUSION
f = m.incident_fact


@dataclass(frozen=True)
class Query:
    """One report request: who asks, for which schools and period, under which settings."""

    trust_id: str
    schools: frozenset[str] | None  # None: every school of the trust
    setting_type: str | None
    period: Period
    today: date
    threshold: int | None  # None: nothing suppressed (pupil-level readers)
    vocabulary_version: int | None
    data_as_of: datetime | None
    term_dates: list[dict[str, Any]]
    # The one pattern every answer reads (services.reporting.linked): withheld cells
    # (row, column, what), the year's terms when the period is the year or one of them
    # (the columns; else none, and the period is column "0"), and this period's column.
    visible: frozenset[str] | None = None  # the caller's own schools (None: the trust's)
    withheld: frozenset[tuple[str, str, str]] = frozenset()
    terms: list[tuple[str, date, date]] = field(default_factory=list)
    term_incidents: list[int] = field(default_factory=list)  # the trust's, per term
    column: str = "0"

    @property
    def row(self) -> str:
        """This answer's row in the pattern: a school, a setting type, the trust, or the
        caller's own schools (of a setting type)."""
        if self.schools is not None and len(self.schools) == 1 and self.schools != self.visible:
            return next(iter(self.schools))
        if self.visible is not None and len(self.visible) == 1:
            return next(iter(self.visible))
        mine = "~" if self.visible is not None else "*"
        return f"{mine}:{self.setting_type}" if self.setting_type else mine

    def scope_urns_of(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        """Whether a row's school (``column``) is one of this answer's, by setting type
        too (a school's type read from the school table)."""
        cond: sa.ColumnElement[bool] = sa.true()
        if self.schools is not None:
            cond = column.in_(sorted(self.schools))
        if self.setting_type:
            cond = cond & column.in_(
                sa.select(m.school.c.urn).where(
                    (m.school.c.trust_id == self.trust_id)
                    & (m.school.c.setting_type == self.setting_type)
                )
            )
        return cond

    def types_withheld(self, what: str) -> set[str]:
        """Setting types whose total (incidents: ``all``, a kind or a measure) over the
        trust every answer of the period withholds (a type's rate would give it back)."""
        return {
            row.partition(":")[2]
            for row, col, w in self.withheld
            if col == self.column and w == what and row.startswith("*:")
        }

    def withheld_schools(self, what: str) -> frozenset[str]:
        """The schools whose ``what`` (incidents, a kind or a measure) every answer of the
        period withholds (none for pupil-level readers)."""
        what = ALL if what == "incidents" else what
        return frozenset(
            r for r, c, w in self.withheld if c == self.column and w == what and r.isdigit()
        )

    def veils(self, what: str = ALL) -> bool:
        """Whether this answer's own total of ``what`` is withheld."""
        return (self.row, self.column, what) in self.withheld

    @property
    def hidden_schools(self) -> frozenset[str]:
        """The schools whose incidents every answer of the period withholds."""
        return self.withheld_schools(ALL)

    @property
    def veiled(self) -> bool:
        """Whether this answer's incidents total is withheld (with what adds up to it)."""
        return self.veils(ALL)

    def scope_urns(self, type_of: dict[str, str]) -> list[str]:
        """The schools of ``type_of`` (the trust's) this answer covers."""
        return [
            u
            for u, kind in sorted(type_of.items())
            if (self.schools is None or u in self.schools)
            and (not self.setting_type or kind == self.setting_type)
        ]

    def with_period(self, period: Period) -> Query:
        """The same request over another period."""
        return replace(self, period=period)

    @property
    def as_at(self) -> date:
        """The last date the period has data for (today, for a period still running)."""
        return min(self.period.to_date, self.today)


@dataclass(frozen=True)
class Ask:
    """The filters a caller sent, before they are checked."""

    academic_year: int | None = None
    term: str | None = None
    from_date: date | None = None
    to_date: date | None = None
    setting_type: str | None = None
    school: str | None = None


async def build_query(conn: AsyncConnection, principal: Principal, ask: Ask, clock: Clock) -> Query:
    """Resolve the caller's scope, the period (trust term dates) and the trust's settings."""
    aggregate_only = principal.role in AGGREGATE_ONLY_ROLES and not principal.pupil_level
    if aggregate_only and (ask.from_date or ask.to_date):
        # Two date ranges a day apart differ by that day: set against each other, they
        # would give back any school's small counts. Aggregate audiences read the trust's
        # reporting periods, whose withheld cells are settled together.
        raise ValidationFailed(
            "Reports for this audience cover academic years and terms, not date ranges.",
            errors=[
                {
                    "pointer": "#/query/from_date" if ask.from_date else "#/query/to_date",
                    "detail": "not available to aggregate-only readers: use academic_year and term",
                }
            ],
        )
    if conn.dialect.name == "postgresql":
        # A report's statements are prepared and reused: after five runs PostgreSQL may
        # switch to a generic plan, blind to how many rows the trust and period select,
        # which tripled the large reports' time. Plan each with its values (this request).
        # Percentiles and distinct pupils sort up to a year of one trust's rows: in memory,
        # not in temporary files (the default 4 MB spilled them to disk). A report reads
        # thousands of rows, not millions: starting parallel workers or compiling it (JIT)
        # costs more than it saves. One round trip for all four (true: this transaction).
        await conn.execute(
            sa.text(
                "SELECT set_config('plan_cache_mode', 'force_custom_plan', true),"
                " set_config('work_mem', '32MB', true),"
                " set_config('max_parallel_workers_per_gather', '0', true),"
                " set_config('jit', 'off', true)"
            )
        )
    state = (
        await conn.execute(
            sa.select(m.trust_state).where(m.trust_state.c.trust_id == principal.trust_id)
        )
    ).first()
    term_dates = list(state.term_dates or []) if state is not None else []
    schools = principal.schools
    if ask.school is not None:
        known = await conn.scalar(
            sa.select(sa.literal(1)).where(
                (m.school.c.trust_id == principal.trust_id) & (m.school.c.urn == ask.school)
            )
        )
        if not known or not principal.may_see_school(ask.school):
            raise NotFound("No such school.")
        schools = frozenset({ask.school})
    today = clock.now().astimezone(ZoneInfo("Europe/London")).date()
    threshold: int | None = None
    if aggregate_only:
        threshold = DEFAULT_SUPPRESSION_THRESHOLD
        if state is not None and state.suppression_threshold:
            threshold = int(state.suppression_threshold)
    version = state.vocabulary_version if state is not None else None
    if version is None:
        version = await conn.scalar(
            sa.select(sa.func.max(f.c.vocabulary_version)).where(f.c.trust_id == principal.trust_id)
        )
    q = Query(
        trust_id=principal.trust_id,
        schools=schools,
        setting_type=ask.setting_type,
        period=periods.resolve(
            today, ask.academic_year, ask.term, ask.from_date, ask.to_date, term_dates
        ),
        today=today,
        threshold=threshold,
        vocabulary_version=version,
        data_as_of=state.last_event_at if state is not None else None,
        term_dates=term_dates,
        visible=principal.schools,
    )
    return q


def school_cond(q: Query, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """Within the caller's schools (a column holding a URN)."""
    if q.schools is None:
        return sa.true()
    return column.in_(sorted(q.schools))


def incident_cond(
    q: Query, first: date | None = None, last: date | None = None
) -> sa.ColumnElement[bool]:
    """Significant, counted incidents of the caller's schools in the period (or dates given)."""
    cond = (
        (f.c.trust_id == q.trust_id)
        & f.c.significant
        & ~f.c.voided
        & (f.c.local_date >= (first or q.period.from_date))
        & (f.c.local_date <= (last or q.period.to_date))
        & school_cond(q, f.c.school_urn)
    )
    if q.setting_type:
        cond = cond & (f.c.setting_type == q.setting_type)
    return cond


d = m.incident_day


def day_cond(
    q: Query, first: date | None = None, last: date | None = None
) -> sa.ColumnElement[bool]:
    """The daily rollup rows of the caller's schools in the period (or the dates given)."""
    cond = (
        (d.c.trust_id == q.trust_id)
        & (d.c.local_date >= (first or q.period.from_date))
        & (d.c.local_date <= (last or q.period.to_date))
        & school_cond(q, d.c.school_urn)
    )
    if q.setting_type:
        cond = cond & (d.c.setting_type == q.setting_type)
    return cond


INCIDENT_COLUMNS = tuple(c.name for c in d.columns if c.name not in ("trust_id", "local_date"))


def incident_rows(q: Query, first: date | None = None, last: date | None = None) -> sa.Subquery:
    """The incident rollup rows of the caller's schools between two dates (default: the
    period): whole months from ``incident_month``, the days left over from ``incident_day``.
    Sum any column over them."""
    first, last = first or q.period.from_date, last or q.period.to_date
    months, days = whole_months(first, last)
    im = m.incident_month
    parts: list[sa.Select[Any]] = []
    if months:
        cond = (
            (im.c.trust_id == q.trust_id)
            & (im.c.month >= months[0])
            & (im.c.month <= months[-1])
            & school_cond(q, im.c.school_urn)
        )
        if q.setting_type:
            cond = cond & (im.c.setting_type == q.setting_type)
        parts.append(sa.select(*(im.c[c] for c in INCIDENT_COLUMNS)).where(cond))
    for a, b in days or ([] if parts else [(first, last)]):
        parts.append(sa.select(*(d.c[c] for c in INCIDENT_COLUMNS)).where(day_cond(q, a, b)))
    return (parts[0] if len(parts) == 1 else sa.union_all(*parts)).subquery("rows")


@dataclass(frozen=True)
class SchoolInfo:
    urn: str
    name: str
    setting_type: str


async def schools_in_scope(conn: AsyncConnection, q: Query) -> list[SchoolInfo]:
    """The caller's schools (filtered by setting type), by URN."""
    s = m.school
    cond = (s.c.trust_id == q.trust_id) & school_cond(q, s.c.urn)
    if q.setting_type:
        cond = cond & (s.c.setting_type == q.setting_type)
    rows = (await conn.execute(sa.select(s).where(cond).order_by(s.c.urn))).all()
    return [SchoolInfo(r.urn, r.name, r.setting_type) for r in rows]


async def rolls(
    conn: AsyncConnection, q: Query, dimension: str = "all", year: int | None = None
) -> dict[tuple[str, str], int]:
    """Pupils on roll by (school, group) for the period's academic year."""
    return (await rolls_of(conn, q, (dimension,), year)).get(dimension, {})


async def rolls_of(
    conn: AsyncConnection, q: Query, dimensions: tuple[str, ...], year: int | None = None
) -> dict[str, dict[tuple[str, str], int]]:
    """Pupils on roll by dimension, then (school, group), for the period's academic year:
    several dimensions in one statement."""
    r = m.roll
    cond = (
        (r.c.trust_id == q.trust_id)
        & (r.c.academic_year == (year if year is not None else q.period.academic_year))
        & r.c.dimension.in_(dimensions)
        & school_cond(q, r.c.school_urn)
    )
    if q.setting_type:
        cond = cond & r.c.school_urn.in_(
            sa.select(m.school.c.urn).where(
                (m.school.c.trust_id == q.trust_id) & (m.school.c.setting_type == q.setting_type)
            )
        )
    rows = await conn.execute(
        sa.select(r.c.dimension, r.c.school_urn, r.c.group, r.c.count).where(cond)
    )
    out: dict[str, dict[tuple[str, str], int]] = {}
    for dimension, urn, group, count in rows:
        out.setdefault(dimension, {})[(urn, group)] = count
    return out


r = m.report_day


def report_cond(
    q: Query, first: date | None = None, last: date | None = None
) -> sa.ColumnElement[bool]:
    """The parent-report rollup rows of the caller's schools in the period (or dates given)."""
    cond = (
        (r.c.trust_id == q.trust_id)
        & (r.c.local_date >= (first or q.period.from_date))
        & (r.c.local_date <= (last or q.period.to_date))
        & school_cond(q, r.c.school_urn)
    )
    if q.setting_type:
        cond = cond & (r.c.setting_type == q.setting_type)
    return cond
