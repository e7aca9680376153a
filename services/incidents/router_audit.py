"""The audit log, for trust leads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, StrictInt

from services.incidents import audit
from shared.auth.dependencies import require_roles
from shared.auth.principal import Principal
from shared.db.session import SessionDep
from shared.errors import problem_responses
from shared.pagination import decode_cursor, encode_cursor
from shared.schemas import Page, Timestamp

router = APIRouter(prefix="/v1/audit", tags=["audit"])

TrustLead = Annotated[Principal, Depends(require_roles("trust_lead"))]


class AuditEntry(BaseModel):
    """Who did or read what, when, from which client."""

    seq: StrictInt
    at: Timestamp
    actor: str
    role: str
    client: str | None
    action: str
    method: str
    route: str
    resource: str
    pupil_id: str | None
    prev_hash: str
    hash: str


@router.get(
    "",
    response_model=Page[AuditEntry],
    operation_id="list_audit_entries",
    responses=problem_responses(403),
)
async def list_audit(
    conn: SessionDep,
    principal: TrustLead,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[str | None, Query(pattern=r"^(read|write)$")] = None,
    pupil_id: Annotated[str | None, Query(max_length=36)] = None,
    since: Timestamp | None = None,
    until: Timestamp | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[AuditEntry]:
    """The trust's audit entries, newest first."""
    after = None
    if cursor:
        (seq,) = decode_cursor(cursor, 1)
        try:
            after = int(str(seq))
        except ValueError:
            decode_cursor("", 1)
    rows = await audit.query(
        conn,
        principal.trust_id,
        actor=actor,
        action=action,
        pupil_id=pupil_id,
        since=since,
        until=until,
        after_seq=after,
        limit=limit + 1,
    )
    items = [
        AuditEntry(**{k: getattr(r, k) for k in AuditEntry.model_fields}) for r in rows[:limit]
    ]
    next_cursor = encode_cursor([items[-1].seq]) if len(rows) > limit else None
    return Page[AuditEntry](items=items, next_cursor=next_cursor)
