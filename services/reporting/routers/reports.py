"""Report routes: trust-wide under ``/v1/trusts/{trust}/`` and per school under
``/v1/schools/{urn}/``; JSON, or CSV for ``Accept: text/csv``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting.formats import respond
from services.reporting.queries.audit import audit
from services.reporting.queries.base import Query as ReportQuery
from services.reporting.queries.disproportionality import disproportionality
from services.reporting.queries.outliers import outliers
from services.reporting.queries.schools import schools_report
from services.reporting.queries.summary import trust_summary
from services.reporting.queries.training import training
from services.reporting.queries.trends import METRICS, trends
from services.reporting.routers.common import (
    CSV_RESPONSE,
    TRUST_PATTERN,
    URN_PATTERN,
    Filters,
    Reader,
    school_query,
    trust_query,
)
from services.reporting.schemas import SchoolsReport, TrustSummary
from services.reporting.schemas_analysis import (
    AuditReport,
    DisproportionalityReport,
    OutliersReport,
    TrainingReport,
    TrendsReport,
)
from shared.db.session import SessionDep
from shared.errors import problem_responses

router = APIRouter(prefix="/v1", tags=["reports"])
TrustId = Annotated[str, Path(pattern=TRUST_PATTERN, description="DfE trust reference")]
Urn = Annotated[str, Path(pattern=URN_PATTERN, description="The school's URN")]
Metric = Literal[
    "incidents",
    "restraint",
    "seclusion",
    "other",
    "ground_restraint",
    "pupil_injuries",
    "staff_injuries",
    "late_records",
    "rate",
    "pupils",
]
Interval = Literal["week", "month", "term"]
assert set(Metric.__args__) == set(METRICS)  # type: ignore[attr-defined]

Report = Callable[[AsyncConnection, ReportQuery], Awaitable[BaseModel]]
AREAS: list[tuple[str, Report, type[BaseModel], str | None, bool, str]] = [
    (
        "summary",
        trust_summary,
        TrustSummary,
        None,
        True,
        "Significant incidents by kind, pupils, concentration, rates, change on last period.",
    ),
    (
        "schools",
        schools_report,
        SchoolsReport,
        "schools",
        False,
        "Each school beside its setting-type peers.",
    ),
    (
        "disproportionality",
        disproportionality,
        DisproportionalityReport,
        "groups",
        True,
        "Incidents and pupils affected per 100 on roll by characteristic, with risk ratios.",
    ),
    (
        "outliers",
        outliers,
        OutliersReport,
        "funnels,signals",
        False,
        "Funnel-plot positions within each setting type, and the schools singled out.",
    ),
    (
        "training",
        training,
        TrainingReport,
        "schools",
        True,
        "Trained staff share, certificates expiring within 90 days, untrained staff in incidents.",
    ),
    (
        "audit",
        audit,
        AuditReport,
        "items",
        True,
        "The policy and data audit, from the data where it can answer, else the trust leads.",
    ),
]
RESPONSES = {**problem_responses(403, 404, 422), **CSV_RESPONSE}


def _trust_route(
    area: str, report: Report, model: type[BaseModel], rows: str | None, doc: str
) -> None:
    async def endpoint(
        request: Request, conn: SessionDep, principal: Reader, trust_id: TrustId, ask: Filters
    ) -> Any:
        q = await trust_query(request, conn, principal, trust_id, ask)
        return respond(request, await report(conn, q), rows)

    endpoint.__doc__ = doc
    router.add_api_route(
        f"/trusts/{{trust_id}}/{area}",
        endpoint,
        methods=["GET"],
        response_model=model,
        operation_id=f"get_trust_{area}",
        responses=RESPONSES,
        summary=doc.split(",")[0],
    )


def _school_route(
    area: str, report: Report, model: type[BaseModel], rows: str | None, doc: str
) -> None:
    async def endpoint(
        request: Request, conn: SessionDep, principal: Reader, urn: Urn, ask: Filters
    ) -> Any:
        q = await school_query(request, conn, principal, urn, ask)
        return respond(request, await report(conn, q), rows)

    endpoint.__doc__ = f"One school: {doc[0].lower()}{doc[1:]}"
    router.add_api_route(
        f"/schools/{{urn}}/{area}",
        endpoint,
        methods=["GET"],
        response_model=model,
        operation_id=f"get_school_{area}",
        responses=RESPONSES,
        summary=f"School {area}",
    )


for _area, _report, _model, _rows, _per_school, _doc in AREAS:
    _trust_route(_area, _report, _model, _rows, _doc)
    if _per_school:
        _school_route(_area, _report, _model, _rows, _doc)


@router.get(
    "/trusts/{trust_id}/trends",
    response_model=TrendsReport,
    operation_id="get_trust_trends",
    responses=RESPONSES,
)
async def get_trust_trends(
    request: Request,
    conn: SessionDep,
    principal: Reader,
    trust_id: TrustId,
    ask: Filters,
    metric: Annotated[Metric, Query(description="What to count")] = "incidents",
    interval: Annotated[Interval, Query()] = "month",
) -> Any:
    """Any metric as a time series by week, month or term."""
    q = await trust_query(request, conn, principal, trust_id, ask)
    return respond(request, await trends(conn, q, metric, interval), "points")


@router.get(
    "/schools/{urn}/trends",
    response_model=TrendsReport,
    operation_id="get_school_trends",
    responses=RESPONSES,
)
async def get_school_trends(
    request: Request,
    conn: SessionDep,
    principal: Reader,
    urn: Urn,
    ask: Filters,
    metric: Annotated[Metric, Query(description="What to count")] = "incidents",
    interval: Annotated[Interval, Query()] = "month",
) -> Any:
    """One school's metric as a time series by week, month or term."""
    q = await school_query(request, conn, principal, urn, ask)
    return respond(request, await trends(conn, q, metric, interval), "points")
