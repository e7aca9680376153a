"""The notifications API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from services.notifications import repository as repo
from services.notifications.schemas import MessageView, ParentReportView
from shared.auth.dependencies import require_roles
from shared.auth.principal import Principal
from shared.db.session import SessionDep
from shared.errors import NotFound, problem_responses

router = APIRouter(prefix="/v1", tags=["parent reports"])
Staff = Annotated[
    Principal,
    Depends(require_roles("recorder", "school_lead", "dsl", "trust_lead", "mis_client")),
]


@router.get(
    "/incidents/{incident_id}/parent-reports",
    response_model=list[ParentReportView],
    operation_id="list_parent_reports_for_incident",
    responses=problem_responses(403, 404),
)
async def list_parent_reports(
    conn: SessionDep, principal: Staff, incident_id: str
) -> list[ParentReportView]:
    """Every parent report of an incident, with each message's timeline."""
    reports, messages = await repo.reports_for_incident(conn, principal, incident_id)
    if not reports:
        raise NotFound("No parent reports for that incident.")
    by_report: dict[str, list[MessageView]] = {}
    for msg in messages:
        by_report.setdefault(msg.report_id, []).append(
            MessageView(
                message_id=msg.message_id,
                channel=msg.channel,
                provider=msg.provider,
                recipient=msg.recipient_masked,
                status=msg.status,
                created_at=msg.created_at,
                sent_at=msg.sent_at,
                delivered_at=msg.delivered_at,
            )
        )
    return [
        ParentReportView(
            report_id=r.report_id,
            incident_id=r.incident_id,
            school_urn=r.school_urn,
            contact_id=r.contact_id,
            status=r.status,
            created_at=r.created_at,
            sent_at=r.sent_at,
            messages=by_report.get(r.report_id, []),
        )
        for r in reports
    ]
