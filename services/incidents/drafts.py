"""Drafts: incomplete records kept to finish later; nothing leaves the service for them."""

from __future__ import annotations

import uuid
from typing import Any, NoReturn

from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import gather
from services.incidents import models as m
from services.incidents import repository as repo
from services.incidents.record import check_record
from services.incidents.schemas import Incident, IncidentCreate, IncidentDraft
from services.incidents.service import _RowLike, _submit, input_json, to_incident
from shared.auth.principal import Principal
from shared.clock import Clock
from shared.errors import Conflict, NotFound, ValidationFailed


async def save_draft(
    conn: AsyncConnection, principal: Principal, body: IncidentCreate, clock: Clock
) -> IncidentDraft:
    """Keep an incomplete record to finish later; only its school must be known."""
    if not body.school_urn or not principal.may_see_school(body.school_urn):
        raise ValidationFailed(
            "A draft needs a school you may record for.",
            errors=[{"pointer": "/school_urn", "detail": "is required for a draft"}],
        )
    if await repo.get_school(conn, principal.trust_id, body.school_urn) is None:
        raise ValidationFailed(
            "A draft needs a school you may record for.",
            errors=[{"pointer": "/school_urn", "detail": "not a school of your trust"}],
        )
    now = clock.now()
    values = {
        "trust_id": principal.trust_id,
        "incident_id": str(uuid.uuid4()),
        "school_urn": body.school_urn,
        "body": input_json(body),
        "created_by": principal.subject,
        "created_at": now,
        "updated_at": now,
    }
    await conn.execute(m.incident_draft.insert().values(**values))
    return await to_draft(conn, principal, _RowLike(values), clock)


async def to_draft(
    conn: AsyncConnection, principal: Principal, row: Any, clock: Clock
) -> IncidentDraft:
    """The API view of a draft, with what submission would still refuse."""
    body = IncidentCreate.model_validate(row.body)
    look, _, _ = await gather.lookup(conn, principal, body)
    return IncidentDraft(
        incident_id=row.incident_id,
        trust_id=row.trust_id,
        school_urn=row.school_urn,
        body=row.body,
        problems=check_record(body, look, clock.now()),
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def get_any(
    conn: AsyncConnection, principal: Principal, incident_id: str, clock: Clock
) -> Incident | IncidentDraft | None:
    """An incident or a draft within the caller's scope."""
    row = await repo.get_incident(conn, principal, incident_id)
    if row is not None:
        return to_incident(row)
    draft = await repo.get_draft(conn, principal, incident_id)
    if draft is not None:
        return await to_draft(conn, principal, draft, clock)
    return None


async def _not_a_draft(conn: AsyncConnection, principal: Principal, incident_id: str) -> NoReturn:
    """409 for a record that exists but is already submitted; 404 for anything else."""
    if await repo.get_incident(conn, principal, incident_id) is not None:
        raise Conflict("The record has been submitted; it is no longer a draft.")
    raise NotFound("No such draft.")


async def submit_draft(
    conn: AsyncConnection, principal: Principal, incident_id: str, clock: Clock
) -> Incident:
    """Submit a draft: the same completeness as any submission; it keeps its id."""
    draft = await repo.get_draft(conn, principal, incident_id)
    if draft is None:
        await _not_a_draft(conn, principal, incident_id)
    body = IncidentCreate.model_validate({**draft.body, "status": "submitted"})
    incident, _ = await _submit(conn, principal, body, clock, False, incident_id)
    d = m.incident_draft
    await conn.execute(
        d.delete().where((d.c.trust_id == principal.trust_id) & (d.c.incident_id == incident_id))
    )
    return incident


async def replace_draft(
    conn: AsyncConnection,
    principal: Principal,
    incident_id: str,
    body: IncidentCreate,
    clock: Clock,
) -> IncidentDraft:
    """Replace a draft's body; it stays a draft, in the same school."""
    draft = await repo.get_draft(conn, principal, incident_id)
    if draft is None:
        await _not_a_draft(conn, principal, incident_id)
    if body.school_urn != draft.school_urn:
        raise ValidationFailed(
            "A draft stays with its school.",
            errors=[{"pointer": "/school_urn", "detail": "must be the draft's school"}],
        )
    d = m.incident_draft
    now = clock.now()
    await conn.execute(
        d.update()
        .where((d.c.trust_id == principal.trust_id) & (d.c.incident_id == incident_id))
        .values(body=input_json(body), updated_at=now)
    )
    fresh = await repo.get_draft(conn, principal, incident_id)
    return await to_draft(conn, principal, fresh, clock)
