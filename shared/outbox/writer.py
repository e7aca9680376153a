"""Writing an event: one row in the producer's outbox, in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events.registry import event_type


async def record_event(
    conn: AsyncConnection,
    outbox: sa.Table,
    *,
    type: str,
    trust_id: str,
    subject_id: str,
    subject_revision: int,
    occurred_at: datetime,
    payload: BaseModel | dict[str, Any],
    school_urn: str | None = None,
    event_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Validate ``payload`` against its registered type and add it to the outbox.

    Nothing is published here: the row commits (or not) with the caller's domain rows,
    and the relay publishes it afterwards.
    """
    model = event_type(type)
    data = payload if isinstance(payload, dict) else payload.model_dump(mode="json")
    checked = model.model_validate(data).model_dump(mode="json")
    eid = event_id or uuid.uuid4()
    await conn.execute(
        outbox.insert().values(
            event_id=eid,
            type=type,
            trust_id=trust_id,
            school_urn=school_urn,
            subject_id=subject_id,
            subject_revision=subject_revision,
            occurred_at=occurred_at,
            payload=checked,
        )
    )
    return eid
