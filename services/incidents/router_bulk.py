"""Bulk import for MIS migrations, and the pupil's file."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from services.incidents import bulk, export
from services.incidents.audit import audit_trail
from services.incidents.dependencies import ClockDep
from shared.auth.dependencies import require_roles
from shared.auth.principal import Principal
from shared.db.session import SessionDep
from shared.errors import UnsupportedMediaType, ValidationFailed, problem_responses

router = APIRouter(prefix="/v1", tags=["incidents"], dependencies=[Depends(audit_trail)])

BULK_PATH = "/v1/incidents/bulk"
BULK_BODY_LIMIT = 32 * 1024 * 1024
NDJSON = ("application/x-ndjson", "application/jsonl", "application/ndjson")

Importer = Annotated[Principal, Depends(require_roles("mis_client", "trust_lead"))]
Exporter = Annotated[Principal, Depends(require_roles("school_lead", "dsl", "trust_lead"))]


@router.post(
    "/incidents/bulk",
    operation_id="import_incidents",
    responses={
        200: {
            "description": "One result per line, in order (NDJSON)",
            "content": {"application/x-ndjson": {}},
        },
        **problem_responses(403, 413, 415),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "Up to 10,000 historic records, one JSON object a line (32 MiB)",
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
async def import_incidents(
    conn: SessionDep, principal: Importer, clock: ClockDep, request: Request
) -> Response:
    """Import historic records (NDJSON); each line stands or falls alone; never messages parents."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in NDJSON:
        raise UnsupportedMediaType("Send the records as application/x-ndjson.")
    results, summary = await bulk.import_stream(conn, principal, clock, request.stream())
    if not results:
        raise ValidationFailed(
            "The import holds no records.",
            errors=[{"pointer": "", "detail": "send at least one JSON object, one a line"}],
        )
    body = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in results)
    return Response(
        body,
        media_type="application/x-ndjson",
        headers={"Candour-Import-Summary": summary.header()},
    )


@router.get(
    "/pupils/{pupil_id}/file",
    response_model=dict[str, Any],
    operation_id="export_pupil_file",
    responses=problem_responses(403, 404),
)
async def export_pupil_file(
    conn: SessionDep,
    principal: Exporter,
    clock: ClockDep,
    request: Request,
    pupil_id: Annotated[str, Path(max_length=36)],
) -> dict[str, Any]:
    """The pupil's file: every record and revision (transfer, subject access request)."""
    request.state.audit_pupil = pupil_id
    return await export.pupil_file(conn, principal, pupil_id, clock)
