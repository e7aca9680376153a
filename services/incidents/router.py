"""The incidents API: recording, drafts, reading (thin: each route calls one use case)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import ValidationError

from services.incidents import drafts, service, vocabulary_api
from services.incidents import repository as repo
from services.incidents.audit import audit_trail
from services.incidents.dependencies import ClockDep, Recorder
from services.incidents.schemas import EXAMPLE_INCIDENT, Incident, IncidentCreate, IncidentDraft
from shared.db.session import SessionDep
from shared.errors import (
    BadRequest,
    NotFound,
    ValidationFailed,
    problem_response,
    problem_responses,
    validation_errors,
)
from shared.pagination import decode_cursor, encode_cursor
from shared.schemas import Page, Timestamp

router = APIRouter(prefix="/v1/incidents", tags=["incidents"], dependencies=[Depends(audit_trail)])


# What a client does next with the record it was answered with (OpenAPI links): read it,
# amend it against the revision it holds (its ETag), list its revisions.
_BY_ID = {"incident_id": "$response.body#/incident_id"}
RECORD_LINKS: dict[str, Any] = {
    "get_incident": {"operationId": "get_incident", "parameters": _BY_ID},
    "amend_incident": {
        "operationId": "amend_incident",
        "parameters": {**_BY_ID, "header.If-Match": "$response.header.ETag"},
    },
    "list_incident_revisions": {"operationId": "list_incident_revisions", "parameters": _BY_ID},
}


def _headers(response: Response, item: Incident | IncidentDraft) -> None:
    response.headers["Location"] = f"/v1/incidents/{item.incident_id}"
    response.headers["ETag"] = f'"{item.revision}"'


@router.post(
    "",
    status_code=201,
    response_model=Incident | IncidentDraft,
    operation_id="submit_incident",
    responses={
        200: {
            "description": "Already recorded: a replay, or a re-send (a new revision if changed)",
            "model": Incident,
            "links": RECORD_LINKS,
        },
        201: {"description": "Recorded (or saved as a draft)", "links": RECORD_LINKS},
        **problem_responses(400, 403, 409),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": "#/components/schemas/IncidentCreate"},
                    "examples": {
                        "complete": {"summary": "A complete submission", "value": EXAMPLE_INCIDENT}
                    },
                }
            },
        }
    },
)
async def submit_incident(
    conn: SessionDep,
    principal: Recorder,
    clock: ClockDep,
    request: Request,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Makes a retried create safe: same key, same result"),
    ] = None,
) -> Incident | IncidentDraft:
    """Record a submitted incident (or a draft); its parent report and reporting follow."""
    body = await leniently_parsed(conn, principal, clock, request)
    try:
        item, created = await service.submit_incident(
            conn, principal, body, clock, idempotency_key=idempotency_key
        )
    except ValidationFailed as exc:
        # Nothing was written before the check; keep the count of unmapped labels, then refuse.
        urn, unmapped = getattr(exc, "school_urn", None), getattr(exc, "unmapped", None)
        if urn and unmapped:
            await vocabulary_api.record_unmapped(
                conn, principal.trust_id, urn, unmapped, clock.now()
            )
            request.state.audit_skip = True  # refused: nothing was written
            return problem_response(exc, request)  # type: ignore[return-value]
        raise
    if not created:
        response.status_code = 200
    request.state.audit_pupil = getattr(item, "pupil_id", None)
    _headers(response, item)
    return item


async def leniently_parsed(
    conn: SessionDep, principal: Recorder, clock: ClockDep, request: Request
) -> IncidentCreate:
    """The body as a model; a malformed submission is refused with every problem at once.

    Fields of the wrong type are set aside so that the completeness check can still run
    over the rest: the 422 then names malformed and missing fields together.
    """
    try:
        data = json.loads(await request.body())
    except ValueError:
        raise BadRequest("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ValidationFailed(
            "The request body must be a JSON object.",
            errors=[{"pointer": "", "detail": "not a JSON object"}],
        )
    try:
        return IncidentCreate.model_validate(data)
    except ValidationError as exc:
        problems = validation_errors(exc.errors())  # type: ignore[arg-type]
        bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        if data.get("status") == "draft" or "status" in bad:
            raise ValidationFailed("The draft has invalid fields.", errors=problems) from None
        rest = IncidentCreate.model_validate({k: v for k, v in data.items() if k not in bad})
        more = await service.check_only(conn, principal, rest, clock)
        problems += [p for p in more if p["pointer"].split("/")[1:2] not in ([b] for b in bad)]
        raise ValidationFailed(
            "The incident cannot be submitted; see errors.", errors=problems
        ) from None


@router.post(
    "/{incident_id}/submit",
    response_model=Incident,
    operation_id="submit_draft",
    responses=problem_responses(403, 404, 409),
)
async def submit_draft(
    conn: SessionDep, principal: Recorder, clock: ClockDep, incident_id: str, response: Response
) -> Incident:
    """Submit a draft: refused, with every gap named, until it is complete."""
    incident = await drafts.submit_draft(conn, principal, incident_id, clock)
    _headers(response, incident)
    return incident


@router.put(
    "/{incident_id}/draft",
    response_model=IncidentDraft,
    operation_id="replace_draft",
    responses=problem_responses(403, 404, 409),
)
async def replace_draft(
    conn: SessionDep,
    principal: Recorder,
    clock: ClockDep,
    incident_id: str,
    body: IncidentCreate,
) -> IncidentDraft:
    """Replace a draft's content (it may still be incomplete)."""
    return await drafts.replace_draft(conn, principal, incident_id, body, clock)


@router.get(
    "",
    response_model=Page[Incident],
    operation_id="list_incidents",
    responses=problem_responses(403),
)
async def list_incidents(
    conn: SessionDep,
    principal: Recorder,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    school_urn: Annotated[str | None, Query(pattern=r"^\d{6}$")] = None,
    occurred_from: Annotated[Timestamp | None, Query(description="Inclusive")] = None,
    occurred_to: Annotated[Timestamp | None, Query(description="Exclusive")] = None,
    intervention_type: Annotated[str | None, Query(max_length=60)] = None,
    status: Annotated[str | None, Query(pattern=r"^(submitted|reviewed|closed)$")] = None,
    flag: Annotated[str | None, Query(pattern=r"^[a-z0-9_]{1,60}$")] = None,
    pupil_id: Annotated[str | None, Query(max_length=36)] = None,
) -> Page[Incident]:
    """Incidents of the caller's schools, newest first, filtered."""
    after = None
    if cursor:
        at, iid = decode_cursor(cursor, 2)
        try:
            after = (datetime.fromisoformat(str(at)), str(iid))
        except ValueError:
            decode_cursor("", 2)
    rows = await repo.list_incidents(
        conn,
        principal,
        limit=limit + 1,
        after=after,
        school_urn=school_urn,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
        intervention_type=intervention_type,
        status=status,
        flag=flag,
        pupil_id=pupil_id,
    )
    items = [service.to_incident(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor([last.occurred_at.isoformat(), last.incident_id])
    return Page[Incident](items=items, next_cursor=next_cursor)


@router.get(
    "/drafts",
    response_model=Page[IncidentDraft],
    operation_id="list_drafts",
    responses=problem_responses(403),
)
async def list_drafts(
    conn: SessionDep,
    principal: Recorder,
    clock: ClockDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[IncidentDraft]:
    """Drafts of the caller's schools, newest first, each with what it still lacks."""
    after = None
    if cursor:
        at, iid = decode_cursor(cursor, 2)
        try:
            after = (datetime.fromisoformat(str(at)), str(iid))
        except ValueError:
            decode_cursor("", 2)
    rows = await repo.list_drafts(conn, principal, limit=limit + 1, after=after)
    items = [await drafts.to_draft(conn, principal, r, clock) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor([last.created_at.isoformat(), last.incident_id])
    return Page[IncidentDraft](items=items, next_cursor=next_cursor)


@router.get(
    "/{incident_id}",
    response_model=Incident | IncidentDraft,
    operation_id="get_incident",
    responses={200: {"links": RECORD_LINKS}, **problem_responses(403, 404)},
)
async def get_incident(
    conn: SessionDep,
    principal: Recorder,
    clock: ClockDep,
    incident_id: str,
    request: Request,
    response: Response,
) -> Incident | IncidentDraft:
    """One incident (or draft) of the caller's schools."""
    item = await drafts.get_any(conn, principal, incident_id, clock)
    if item is None:
        raise NotFound("No such incident.")
    request.state.audit_pupil = getattr(item, "pupil_id", None)
    response.headers["ETag"] = f'"{item.revision}"'
    return item
