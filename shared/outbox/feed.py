"""The change feed: ``GET /v1/events?after=SEQ``, a service's events in sequence order."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shared.auth.dependencies import require_roles
from shared.auth.principal import Principal
from shared.db.scoping import scoped
from shared.db.session import SessionDep
from shared.errors import Forbidden, problem_responses
from shared.events.envelope import EventEnvelope
from shared.outbox.relay import envelope_from_row

# A portal reads the feed only with the `pupil:read` scope (checked in the route).
FEED_ROLES = ("trust_lead", "service", "portal_client", "mis_client")
# Sections of a payload that identify a pupil, hold safeguarding text or staff contacts;
# dropped for callers without pupil-level reads.
PUPIL_LEVEL_SECTIONS = ("report", "parent_report", "contact")


class EventPage(BaseModel):
    """Events after a sequence number, in order."""

    items: list[EventEnvelope]
    next_after: int = Field(description="Pass as `after` to continue; unchanged when caught up")


def _redact(envelope: EventEnvelope, principal: Principal) -> EventEnvelope:
    if principal.pupil_level:
        return envelope
    payload: dict[str, Any] = {
        k: v for k, v in envelope.payload.items() if k not in PUPIL_LEVEL_SECTIONS
    }
    return envelope.model_copy(update={"payload": payload})


def feed_router(service: str, outbox: sa.Table) -> APIRouter:
    """The change-feed routes of one service."""
    router = APIRouter(tags=["events"])

    @router.get(
        "/v1/events",
        response_model=EventPage,
        operation_id=f"{service}_list_events",
        responses=problem_responses(403),
    )
    async def list_events(
        conn: SessionDep,
        principal: Annotated[Principal, Depends(require_roles(*FEED_ROLES))],
        after: Annotated[
            # Bounded by a signed 64-bit column: larger numbers overflow the database driver.
            int, Query(ge=0, le=2**63 - 1, description="Last sequence already seen")
        ] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> EventPage:
        """The caller's trust's events with a sequence above ``after``, oldest first."""
        if not principal.pupil_level:
            # A portal without `pupil:read` has governor rights, aggregates only (DESIGN §5):
            # every event is one record, naming a pupil, a school or a member of staff.
            raise Forbidden("The change feed needs pupil-level reads (scope pupil:read).")
        o = outbox
        cond = scoped(o, principal) & (o.c.sequence > after)
        rows = (
            await conn.execute(sa.select(o).where(cond).order_by(o.c.sequence).limit(limit))
        ).all()
        items = [_redact(envelope_from_row(r, service), principal) for r in rows]
        return EventPage(items=items, next_after=items[-1].sequence if items else after)

    return router
