"""Provider callbacks: GOV.UK Notify's delivery receipts, bearer-token checked."""

from __future__ import annotations

import hmac
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict

from services.notifications import escalation, sending
from services.notifications import models as m
from services.notifications.providers.base import DELIVERED, SendResult
from services.notifications.providers.notify import notify_status
from shared.errors import NotFound, Unauthorized, problem_responses
from shared.runtime import ServiceContext
from shared.schemas import Timestamp

router = APIRouter(prefix="/v1/providers", tags=["provider callbacks"])
bearer = HTTPBearer(auto_error=False, description="The callback token configured in Notify")


class NotifyReceipt(BaseModel):
    """A delivery receipt as GOV.UK Notify posts it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    reference: str | None = None
    to: str | None = None
    status: str
    created_at: Timestamp | None = None
    completed_at: Timestamp | None = None
    sent_at: Timestamp | None = None
    notification_type: str | None = None


class ReceiptAck(BaseModel):
    """What we made of a receipt."""

    message_id: str
    status: str


def _check(request: Request, credentials: HTTPAuthorizationCredentials | None) -> None:
    expected = request.app.state.ctx.settings.notify_callback_token
    given = credentials.credentials if credentials else ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized("The callback token is not the one configured.")


@router.post(
    "/notify/receipts",
    response_model=ReceiptAck,
    operation_id="notify_delivery_receipt",
    responses=problem_responses(401, 404, 422),
)
async def notify_receipt(
    request: Request,
    receipt: NotifyReceipt,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ReceiptAck:
    """Record a Notify delivery receipt against our message (found by its reference)."""
    _check(request, credentials)
    ctx: ServiceContext = request.app.state.ctx
    msg = m.message
    async with ctx.db.engine.connect() as conn:
        row = (
            await conn.execute(
                sa.select(
                    msg.c.trust_id, msg.c.message_id, msg.c.report_id, msg.c.provider_ref
                ).where(msg.c.message_id == (receipt.reference or ""))
            )
        ).first()
    if row is None or (row.provider_ref and row.provider_ref != receipt.id):
        raise NotFound("No message with that reference.")
    status = notify_status(receipt.status)
    result = SendResult(
        receipt.id,
        status,
        delivered_at=(receipt.completed_at or ctx.clock.now()) if status == DELIVERED else None,
    )
    stored = await sending.record_result(ctx, row.trust_id, row.message_id, result, "notify")
    await escalation.schedule_report(ctx, row.trust_id, row.report_id)
    return ReceiptAck(message_id=row.message_id, status=stored)
