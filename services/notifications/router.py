"""The notifications API: parent reports by incident, by school, one by one."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import repository as repo
from services.notifications.schemas import (
    MessageView,
    ParentReportView,
    StepView,
    TimelineEntry,
)
from shared.auth.dependencies import require_roles, require_school
from shared.auth.principal import Principal
from shared.db.session import SessionDep
from shared.errors import NotFound, problem_responses
from shared.pagination import decode_cursor, encode_cursor
from shared.schemas import Page

router = APIRouter(prefix="/v1", tags=["parent reports"])
Staff = Annotated[
    Principal,
    Depends(require_roles("recorder", "school_lead", "dsl", "trust_lead", "mis_client")),
]


async def views(
    conn: AsyncConnection, trust_id: str, reports: list[sa.Row]
) -> list[ParentReportView]:
    """Reports with their messages, steps and timeline."""
    messages, steps, events = await repo.details(conn, trust_id, [r.report_id for r in reports])
    by_msg: dict[str, list[MessageView]] = {}
    for msg in messages:
        by_msg.setdefault(msg.report_id, []).append(
            MessageView(
                message_id=msg.message_id,
                channel=msg.channel,
                provider=msg.provider,
                recipient=msg.recipient_masked,
                recipient_kind=msg.recipient_kind,
                step=msg.step,
                purpose=msg.purpose,
                status=msg.status,
                attempts=msg.attempts,
                created_at=msg.created_at,
                sent_at=msg.sent_at,
                delivered_at=msg.delivered_at,
            )
        )
    by_step: dict[str, list[StepView]] = {}
    for s in steps:
        by_step.setdefault(s.report_id, []).append(
            StepView(
                step=s.step, due_at=s.due_at, status=s.status, done_at=s.done_at, detail=s.detail
            )
        )
    by_event: dict[str, list[TimelineEntry]] = {}
    for e in events:
        by_event.setdefault(e.report_id, []).append(
            TimelineEntry(at=e.at, kind=e.kind, detail=e.detail)
        )
    return [
        ParentReportView(
            report_id=r.report_id,
            incident_id=r.incident_id,
            school_urn=r.school_urn,
            contact_id=r.contact_id,
            kind=r.kind,
            status=r.status,
            hold=r.hold,
            standard=r.standard,
            standard_reason=r.standard_reason,
            local_date=r.local_date,
            deadline_at=r.deadline_at,
            created_at=r.created_at,
            sent_at=r.sent_at,
            told_at=r.told_at,
            told_how=r.told_how,
            messages=by_msg.get(r.report_id, []),
            steps=by_step.get(r.report_id, []),
            timeline=by_event.get(r.report_id, []),
        )
        for r in reports
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
    reports = await repo.reports_for_incident(conn, principal, incident_id)
    if not reports:
        raise NotFound("No parent reports for that incident.")
    return await views(conn, principal.trust_id, reports)


@router.get(
    "/schools/{urn}/parent-reports",
    response_model=Page[ParentReportView],
    operation_id="list_parent_reports_for_school",
    responses=problem_responses(403, 404),
)
async def list_school_reports(
    conn: SessionDep,
    principal: Staff,
    urn: str,
    status: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[ParentReportView]:
    """A school's parent reports, newest incident day first, with status and timeline."""
    require_school(principal, urn)
    if not await repo.school_known(conn, principal.trust_id, urn):
        raise NotFound("No such school.")
    after = None
    if cursor:
        a, b = decode_cursor(cursor, 2)
        after = (str(a), str(b))
    rows = await repo.reports_for_school(
        conn, principal, urn, status=status, after=after, limit=limit + 1
    )
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor([page[-1].local_date, page[-1].report_id]) if more else None
    return Page[ParentReportView](
        items=await views(conn, principal.trust_id, page), next_cursor=next_cursor
    )


@router.get(
    "/parent-reports/{report_id}",
    response_model=ParentReportView,
    operation_id="get_parent_report",
    responses=problem_responses(403, 404),
)
async def get_parent_report(conn: SessionDep, principal: Staff, report_id: str) -> ParentReportView:
    """One parent report with its messages, steps and timeline."""
    report = await repo.get_report(conn, principal, report_id)
    return (await views(conn, principal.trust_id, [report]))[0]
