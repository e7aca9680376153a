"""What every report shares: the caller's scope, the period, and the trust's settings."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting import patterns, periods, rollups
from services.reporting.config import DEFAULT_SUPPRESSION_THRESHOLD
from services.reporting.periods import Period
from services.reporting.queries.spans import chunks, whole_months
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
    # For audiences with a threshold: the schools whose incident counts every answer of
    # the period withholds (patterns.canonical_hidden), each school's count, and whether
    # this answer's total over its schools must be withheld with its breakdowns.
    hidden_schools: frozenset[str] = frozenset()
    school_counts: dict[str, int] = field(default_factory=dict)
    veiled: bool = False
    # The same for each school's kinds (restraint, seclusion, other): the (school, kind)
    # counts every answer withholds, and the kinds whose total over this answer's schools
    # is withheld.
    hidden_kinds: frozenset[tuple[str, str]] = frozenset()
    kinds_veiled: frozenset[str] = frozenset()
    # The same for each other per-school measure (injuries, late records, ground restraint,
    # flagged practices, parent reports sent): the schools whose count every answer of the
    # period withholds, each school's count, and the measures whose total over this
    # answer's schools is withheld.
    measure_hidden: dict[str, frozenset[str]] = field(default_factory=dict)
    measure_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    measures_veiled: frozenset[str] = frozenset()

    def withheld_schools(self, urns: list[str], what: str) -> frozenset[str]:
        """The schools (of ``urns``) whose ``what`` (incidents, or a kind) every answer
        withholds."""
        if what == "incidents":
            return self.hidden_schools
        if what in self.measure_hidden:
            return self.measure_hidden[what]
        return frozenset(u for u in urns if (u, what) in self.hidden_kinds)

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
    if principal.role in AGGREGATE_ONLY_ROLES and not principal.pupil_level:
        threshold = DEFAULT_SUPPRESSION_THRESHOLD
        if state is not None and state.suppression_threshold:
            threshold = int(state.suppression_threshold)
    if threshold is not None and (ask.from_date or ask.to_date):
        # Two date ranges a day apart differ by that day: set against each other, they
        # would give back any school's small counts. Aggregate audiences read the trust's
        # reporting periods, whose withheld cells are settled together.
        raise ValidationFailed(
            "Reports for this audience cover academic years and terms, not date ranges.",
            errors=[
                {
                    "pointer": "#/query/from_date" if ask.from_date else "#/query/to_date",
                    "detail": "not available to aggregate-only readers: use academic_year "
                    "and term",
                }
            ],
        )
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
    )
    return await with_disclosure(conn, q) if threshold is not None else q


# Per-school measures besides incidents that some answer publishes a total of (a trend's
# intervals add up to it), each withheld by one pattern per period like incidents.
MEASURES = ("ground_restraint", "pupil_injuries", "staff_injuries", "late_records", "flagged")
SENT = "sent"  # parent reports sent (the parent-report rollup)


@dataclass(frozen=True)
class CutCounts:
    """Per school and interval (by index): incidents by kind, and each measure."""

    kinds: dict[tuple[str, int, str], int]
    measures: dict[str, dict[tuple[str, int], int]]

    def cells(self, what: str, keep: list[int] | None = None) -> dict[tuple[str, str], int]:
        """(school, interval index as text) -> count, for incidents, a kind or a measure."""
        out: dict[tuple[str, str], int] = {}
        if what in self.measures:
            items = [(u, i, n) for (u, i), n in self.measures[what].items()]
        else:
            items = [(u, i, n) for (u, i, k), n in self.kinds.items() if what in ("incidents", k)]
        for u, i, n in items:
            if keep is None or i in keep:
                out[(u, str(i))] = out.get((u, str(i)), 0) + n
        return out


async def cut_counts(
    conn: AsyncConnection, q: Query, cuts: list[tuple[str, date, date]], sent: bool = False
) -> CutCounts:
    """Per school and interval of ``cuts`` (the caller's schools): incidents by kind, each
    measure and (``sent``) parent reports sent, in one statement each."""
    parts = []
    for i, (_, first, last) in enumerate(cuts):
        x = incident_rows(q, first, last).c
        parts.append(
            sa.select(
                sa.literal(i).label("bucket"),
                x.school_urn,
                x.kind,
                sa.func.sum(x.incidents),
                *(sa.func.sum(x[c]) for c in MEASURES),
            ).group_by(x.school_urn, x.kind)
        )
    kinds: dict[tuple[str, int, str], int] = {}
    measures: dict[str, dict[tuple[str, int], int]] = {c: {} for c in (*MEASURES, SENT)}
    if parts:
        for bucket, urn, kind, n, *rest in await conn.execute(
            parts[0] if len(parts) == 1 else sa.union_all(*parts)
        ):
            key = (urn, int(bucket))
            kinds[(urn, int(bucket), kind)] = kinds.get((urn, int(bucket), kind), 0) + int(n)
            for c, v in zip(MEASURES, rest, strict=True):
                measures[c][key] = measures[c].get(key, 0) + int(v or 0)
    if sent and cuts:
        whens = [(r.c.local_date.between(a, b), i) for i, (_, a, b) in enumerate(cuts)]
        bucket = sa.case(*whens, else_=-1)
        cond = report_cond(q, cuts[0][1], cuts[-1][2])
        for b, urn, n in await conn.execute(
            sa.select(bucket, r.c.school_urn, sa.func.sum(r.c.sent))
            .where(cond)
            .group_by(bucket, r.c.school_urn)
        ):
            if int(b) >= 0:
                measures[SENT][(urn, int(b))] = int(n or 0)
    return CutCounts(kinds, measures)


def lattice(q: Query) -> tuple[list[tuple[str, date, date]], int | None]:
    """The academic year's terms (and the holidays between them) and which of them the
    period is (None: the whole year), when the period is the year or one of them: the
    cells every answer of the year and of its terms is settled over together. Else the
    period alone, as its one cut."""
    year = periods.academic_year_period(q.period.academic_year)
    terms = periods.buckets(year, "term", q.term_dates)
    here = (q.period.from_date, q.period.to_date)
    if here == (year.from_date, year.to_date):
        return terms, None
    for i, (_, first, last) in enumerate(terms):
        if here == (first, last):
            return terms, i
    return [(q.period.label, q.period.from_date, q.period.to_date)], 0


def settled(
    cells: dict[tuple[str, str], int],
    columns: list[str],
    at: int | None,
    type_of: dict[str, str],
    t: int | None,
) -> tuple[dict[str, int], frozenset[str]]:
    """One measure's counts for the period, per school, and the schools withheld in every
    answer: over the year's terms, the year's pattern (:func:`patterns.canonical_hidden`)
    and each term's column of one table settled under it, so that no term's total can be
    taken from the year's with the others'."""
    year: dict[str, int] = {}
    for (u, _), n in cells.items():
        year[u] = year.get(u, 0) + n
    year_hidden = patterns.canonical_hidden(year, type_of, t)
    if at is None:
        return year, year_hidden
    if len(columns) == 1:
        return year, year_hidden  # the period alone: its own pattern
    table = patterns.canonical_table(cells, tuple(columns), type_of, year_hidden, t)
    col = columns[at]
    counts = {u: n for (u, c), n in cells.items() if c == col}
    return counts, frozenset(u for u, c in table if c == col)


async def with_disclosure(conn: AsyncConnection, q: Query) -> Query:
    """The query with the period's withheld schools, for incidents, kinds and each
    measure (the same for every scope), and which of its own totals are withheld."""
    whole = replace(q, schools=None, setting_type=None)
    type_of = {s.urn: s.setting_type for s in await schools_in_scope(conn, whole)}
    cuts, at = lattice(q)
    counted = await cut_counts(conn, whole, cuts, sent=True)
    columns = [str(i) for i in range(len(cuts))]
    keep = None if at is None else [at]
    t = q.threshold
    counts, hidden = settled(counted.cells("incidents"), columns, at, type_of, t)
    cells: dict[tuple[str, str], int] = {}
    for (u, i, k), n in counted.kinds.items():
        if keep is None or i in keep:
            cells[(u, k)] = cells.get((u, k), 0) + n
    kinds = patterns.canonical_kinds(cells, type_of, hidden, t)
    scope = q.scope_urns(type_of)
    forced = patterns.forced_types(counts, type_of, hidden, t)
    whole_type = any(set(scope) == {u for u in type_of if type_of[u] == k} for k in forced)
    measure_hidden: dict[str, frozenset[str]] = {}
    measure_counts: dict[str, dict[str, int]] = {}
    measures_veiled = set()
    for c in (*MEASURES, SENT):
        mine, withheld = settled(counted.cells(c), columns, at, type_of, t)
        measure_counts[c], measure_hidden[c] = mine, withheld
        pushed = patterns.forced_types(mine, type_of, withheld, t)
        if any(set(scope) == {u for u in type_of if type_of[u] == k} for k in pushed) or (
            patterns.scope_veiled(scope, mine, withheld, t)
        ):
            measures_veiled.add(c)
    return replace(
        q,
        hidden_schools=hidden,
        school_counts=counts,
        veiled=whole_type or patterns.scope_veiled(scope, counts, hidden, t),
        hidden_kinds=kinds,
        kinds_veiled=patterns.kinds_veiled(scope, cells, kinds, t),
        measure_hidden=measure_hidden,
        measure_counts=measure_counts,
        measures_veiled=frozenset(measures_veiled),
    )


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
