"""The incidents API after submission: amendments, review, closure, revisions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from services.incidents import lifecycle
from services.incidents import repository as repo
from services.incidents.audit import audit_trail
from services.incidents.dependencies import Amender, ClockDep, Closer, Recorder, Reviewer
from services.incidents.router import RECORD_LINKS
from services.incidents.schemas import Incident
from shared.db.session import SessionDep
from shared.errors import NotFound, problem_responses

router = APIRouter(prefix="/v1/incidents", tags=["incidents"], dependencies=[Depends(audit_trail)])

IfMatch = Annotated[
    str | None, Header(max_length=40, description="The ETag of the revision you read")
]


class AmendmentIn(BaseModel):
    """Changes to a submitted record: whole sections or fields, with the reason."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)
    changes: dict[str, Any] = Field(
        description="Top-level fields of the record to replace, as in a submission"
    )


class ReviewIn(BaseModel):
    """A review's outcome."""

    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(min_length=1, max_length=4000)
    support_plan_changed: StrictBool
    handling_plan_changed: StrictBool = False


class RevisionOut(BaseModel):
    """One revision: who, why, what changed, and the record as it then stood."""

    revision: StrictInt
    author: str
    reason: str
    changed_fields: list[str] | None
    created_at: Any
    incident: dict[str, Any]


def _etag(response: Response, incident: Incident) -> Incident:
    response.headers["ETag"] = f'"{incident.revision}"'
    return incident


@router.post(
    "/{incident_id}/amendments",
    response_model=Incident,
    operation_id="amend_incident",
    responses={200: {"links": RECORD_LINKS}, **problem_responses(403, 404, 409, 412, 428)},
)
async def amend_incident(
    conn: SessionDep,
    principal: Amender,
    clock: ClockDep,
    incident_id: str,
    body: AmendmentIn,
    response: Response,
    if_match: IfMatch = None,
) -> Incident:
    """Amend a record: a new revision with author, reason and changed fields (If-Match)."""
    incident = await lifecycle.amend(
        conn, principal, incident_id, body.changes, body.reason, if_match, clock
    )
    return _etag(response, incident)


@router.post(
    "/{incident_id}/review",
    response_model=Incident,
    operation_id="review_incident",
    responses=problem_responses(403, 404, 409, 412),
)
async def review_incident(
    conn: SessionDep,
    principal: Reviewer,
    clock: ClockDep,
    incident_id: str,
    body: ReviewIn,
    response: Response,
    if_match: IfMatch = None,
) -> Incident:
    """Review a submitted record (school lead or DSL)."""
    incident = await lifecycle.review(
        conn,
        principal,
        incident_id,
        body.outcome,
        body.support_plan_changed,
        body.handling_plan_changed,
        if_match,
        clock,
    )
    return _etag(response, incident)


@router.post(
    "/{incident_id}/close",
    response_model=Incident,
    operation_id="close_incident",
    responses=problem_responses(403, 404, 409, 412),
)
async def close_incident(
    conn: SessionDep,
    principal: Closer,
    clock: ClockDep,
    incident_id: str,
    response: Response,
    if_match: IfMatch = None,
) -> Incident:
    """Close a reviewed record."""
    incident = await lifecycle.close(conn, principal, incident_id, if_match, clock)
    return _etag(response, incident)


@router.get(
    "/{incident_id}/revisions",
    response_model=list[RevisionOut],
    operation_id="list_incident_revisions",
    responses=problem_responses(403, 404),
)
async def list_revisions(
    conn: SessionDep, principal: Recorder, incident_id: str
) -> list[RevisionOut]:
    """Every revision of a record, oldest first."""
    if await repo.get_incident(conn, principal, incident_id) is None:
        raise NotFound("No such incident.")
    rows = await repo.list_revisions(conn, principal.trust_id, incident_id)
    return [_revision(r) for r in rows]


@router.get(
    "/{incident_id}/revisions/{revision}",
    response_model=RevisionOut,
    operation_id="get_incident_revision",
    responses=problem_responses(403, 404),
)
async def get_revision(
    conn: SessionDep,
    principal: Recorder,
    incident_id: str,
    revision: Annotated[int, Path(ge=1, le=1_000_000)],
) -> RevisionOut:
    """One revision of a record, as it then stood."""
    if await repo.get_incident(conn, principal, incident_id) is None:
        raise NotFound("No such incident.")
    row = await repo.get_revision(conn, principal.trust_id, incident_id, revision)
    if row is None:
        raise NotFound("No such revision.")
    return _revision(row)


def _revision(row: Any) -> RevisionOut:
    return RevisionOut(
        revision=row.revision,
        author=row.author,
        reason=row.reason,
        changed_fields=row.changed_fields,
        created_at=row.created_at,
        incident=(row.body or {}).get("incident", row.body),
    )
