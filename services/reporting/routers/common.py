"""What every reporting route shares: who may read, the filters, the query they resolve to."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request

from services.reporting.periods import date_problem, parse_academic_year
from services.reporting.queries.base import Ask, build_query
from services.reporting.queries.base import Query as ReportQuery
from services.reporting.queries.withheld import with_disclosure
from shared.auth.dependencies import require_roles, require_trust
from shared.auth.principal import Principal
from shared.db.session import SessionDep
from shared.errors import ValidationFailed
from shared.schemas import LocalDate

READER_ROLES = ("trust_lead", "governor", "portal_client", "service", "school_lead", "dsl")
Reader = Annotated[Principal, Depends(require_roles(*READER_ROLES))]
SettingType = Literal[
    "primary", "secondary", "all_through", "special", "alternative_provision", "sixteen_plus"
]
TRUST_PATTERN = r"^TR\d{5}$"
URN_PATTERN = r"^\d{6}$"
# Declared on every report route: JSON by default, CSV for `Accept: text/csv`.
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}


def filters(
    academic_year: Annotated[
        str | None,
        Query(pattern=r"^\d{4}([/-]\d{2})?$", description="September to August, e.g. 2026/27"),
    ] = None,
    term: Annotated[
        Literal["autumn", "spring", "summer"] | None,
        Query(description="A term of the academic year (the trust's term dates)"),
    ] = None,
    from_date: Annotated[
        LocalDate | None,
        Query(description="First local date (a range; refused to aggregate-only readers)"),
    ] = None,
    to_date: Annotated[
        LocalDate | None,
        Query(description="Last local date (a range; refused to aggregate-only readers)"),
    ] = None,
    setting_type: Annotated[SettingType | None, Query()] = None,
    school: Annotated[str | None, Query(pattern=URN_PATTERN, description="One school")] = None,
) -> Ask:
    """The period and scope a caller asked for; every problem named by its pointer."""
    problems = []
    year = None
    if academic_year is not None:
        try:
            year = parse_academic_year(academic_year)
        except ValueError as exc:
            problems.append({"pointer": "#/query/academic_year", "detail": str(exc)})
    for name, value in (("from_date", from_date), ("to_date", to_date)):
        why = date_problem(value)
        if why:
            problems.append({"pointer": f"#/query/{name}", "detail": why})
    if from_date and to_date and from_date > to_date:
        problems.append({"pointer": "#/query/from_date", "detail": "after to_date"})
    if (from_date or to_date) and (academic_year or term):
        problems.append(
            {
                "pointer": "#/query/term" if term else "#/query/academic_year",
                "detail": "give a date range or an academic year and term, not both",
            }
        )
    if problems:
        raise ValidationFailed("The report filters are not valid; see errors.", errors=problems)
    return Ask(year, term, from_date, to_date, setting_type, school)


Filters = Annotated[Ask, Depends(filters)]


async def trust_query(
    request: Request, conn: SessionDep, principal: Principal, trust_id: str, ask: Ask
) -> ReportQuery:
    """The report query for the caller's own trust (another trust: 404)."""
    require_trust(principal, trust_id)
    q = await build_query(conn, principal, ask, request.app.state.ctx.clock)
    return await with_disclosure(conn, q) if q.threshold is not None else q


async def school_query(
    request: Request, conn: SessionDep, principal: Principal, urn: str, ask: Ask
) -> ReportQuery:
    """The report query for one school of the caller's (another school: 404)."""
    q = await build_query(
        conn, principal, Ask(**{**ask.__dict__, "school": urn}), request.app.state.ctx.clock
    )
    return await with_disclosure(conn, q) if q.threshold is not None else q
