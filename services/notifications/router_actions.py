"""Decisions on a parent report: release, approve, withhold, contact recorded, LA, resend."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from services.notifications import actions, escalation
from services.notifications import repository as repo
from services.notifications.router import views
from services.notifications.schemas import (
    ContactRecord,
    LocalAuthorityRecord,
    ParentReportView,
    ResendView,
    WithholdBody,
)
from shared.auth.dependencies import require_roles
from shared.auth.principal import Principal
from shared.db.session import SessionDep, after_commit
from shared.errors import problem_responses

router = APIRouter(prefix="/v1/parent-reports", tags=["parent report decisions"])
Dsl = Annotated[Principal, Depends(require_roles("dsl"))]
Lead = Annotated[Principal, Depends(require_roles("school_lead", "dsl", "trust_lead"))]
Recorder = Annotated[
    Principal, Depends(require_roles("recorder", "school_lead", "dsl", "trust_lead"))
]
ERRORS = problem_responses(403, 404, 409, 422)


def _now(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.ctx.clock.now()


def _wake(request: Request, trust_id: str, report_id: str) -> None:
    """Once the decision is committed, wake the report's due steps at once through arq;
    without Redis the sweeper finds them."""
    ctx = request.app.state.ctx
    after_commit(request, lambda: escalation.schedule_report(ctx, trust_id, report_id))


@router.post(
    "/{report_id}/release",
    response_model=ParentReportView,
    responses=ERRORS,
    operation_id="release_parent_report",
)
async def release(
    request: Request,
    conn: SessionDep,
    principal: Dsl,
    report_id: str,
) -> ParentReportView:
    """The DSL releases a report from safeguarding hold; sending starts at once."""
    report = await repo.get_report(conn, principal, report_id)
    report = await actions.release(conn, report, principal, _now(request), "safeguarding")
    _wake(request, principal.trust_id, report_id)
    return (await views(conn, principal.trust_id, [report]))[0]


@router.post(
    "/{report_id}/approve",
    response_model=ParentReportView,
    responses=ERRORS,
    operation_id="approve_parent_report",
)
async def approve(
    request: Request,
    conn: SessionDep,
    principal: Lead,
    report_id: str,
) -> ParentReportView:
    """A school lead approves a report (schools in approve_first mode); sending starts at
    once."""
    report = await repo.get_report(conn, principal, report_id)
    report = await actions.release(conn, report, principal, _now(request), "approval")
    _wake(request, principal.trust_id, report_id)
    return (await views(conn, principal.trust_id, [report]))[0]


@router.post(
    "/{report_id}/withhold",
    response_model=ParentReportView,
    responses=ERRORS,
    operation_id="withhold_parent_report",
)
async def withhold(
    request: Request, conn: SessionDep, principal: Dsl, report_id: str, body: WithholdBody
) -> ParentReportView:
    """The DSL withholds a report (likely significant harm), with a reason; it never sends."""
    report = await repo.get_report(conn, principal, report_id)
    report = await actions.withhold(conn, report, principal, _now(request), body.reason)
    return (await views(conn, principal.trust_id, [report]))[0]


@router.post(
    "/{report_id}/contacts",
    response_model=ParentReportView,
    responses=ERRORS,
    operation_id="record_parent_contact",
)
async def record_contact(
    request: Request, conn: SessionDep, principal: Recorder, report_id: str, body: ContactRecord
) -> ParentReportView:
    """Record a phone call, a conversation in person, or a written report handed over."""
    report = await repo.get_report(conn, principal, report_id)
    report = await actions.record_contact(
        conn,
        report,
        principal,
        _now(request),
        method=body.method,
        at=body.at,
        outcome=body.outcome,
        by=body.by,
    )
    return (await views(conn, principal.trust_id, [report]))[0]


@router.post(
    "/{report_id}/local-authority-notification",
    response_model=ParentReportView,
    responses=ERRORS,
    operation_id="record_local_authority_notification",
)
async def local_authority(
    request: Request,
    conn: SessionDep,
    principal: Lead,
    report_id: str,
    body: LocalAuthorityRecord,
) -> ParentReportView:
    """Record that the local authority was told, when no parent could be told safely."""
    report = await repo.get_report(conn, principal, report_id)
    report = await actions.record_local_authority(
        conn,
        report,
        principal,
        _now(request),
        at=body.at,
        local_authority=body.local_authority,
        method=body.method,
    )
    return (await views(conn, principal.trust_id, [report]))[0]


@router.post(
    "/{report_id}/resend",
    response_model=ResendView,
    status_code=202,
    responses=ERRORS,
    operation_id="resend_parent_report",
)
async def resend(
    request: Request,
    conn: SessionDep,
    principal: Lead,
    report_id: str,
) -> ResendView:
    """Send the written report again, as a new step, at once."""
    report = await repo.get_report(conn, principal, report_id)
    step = await actions.resend(conn, report, principal, _now(request))
    _wake(request, principal.trust_id, report_id)
    return ResendView(report_id=report_id, step=step)
