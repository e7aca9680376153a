"""Contacts (MIS upserts), escalation contacts and parent-report settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from services.notifications import clock as cl
from services.notifications import repository as repo
from services.notifications.contacts import upsert_contact, upsert_escalation_contact
from services.notifications.schemas_contacts import (
    ContactUpsert,
    ContactView,
    PolicyUpsert,
    PolicyView,
    StaffUpsert,
    StaffView,
)
from shared.auth.dependencies import require_roles, require_school, require_trust
from shared.auth.principal import Principal
from shared.db.session import SessionDep
from shared.errors import NotFound, problem_responses

router = APIRouter(prefix="/v1", tags=["contacts and settings"])
Registry = Annotated[
    Principal, Depends(require_roles("mis_client", "school_lead", "dsl", "trust_lead"))
]
Reader = Annotated[
    Principal, Depends(require_roles("mis_client", "school_lead", "dsl", "trust_lead", "recorder"))
]
TrustLead = Annotated[Principal, Depends(require_roles("trust_lead"))]
Lead = Annotated[Principal, Depends(require_roles("school_lead", "dsl", "trust_lead"))]
Id = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9_.:-]+$")]
ERRORS = problem_responses(403, 404, 422)


def _contact_view(row) -> ContactView:  # type: ignore[no-untyped-def]
    return ContactView.model_validate(row._mapping, from_attributes=False)


@router.put(
    "/pupils/{pupil_id}/contacts/{contact_id}",
    response_model=ContactView,
    responses=ERRORS,
    operation_id="upsert_contact",
)
async def put_contact(
    request: Request,
    conn: SessionDep,
    principal: Registry,
    pupil_id: Id,
    contact_id: Id,
    body: ContactUpsert,
) -> ContactView:
    """Insert or replace one of a pupil's contacts (the MIS is the source)."""
    require_school(principal, body.school_urn)
    existing, exists = await repo.find_contact(conn, principal, contact_id)
    if exists and (existing is None or existing.pupil_id != pupil_id):
        raise NotFound("No such contact.")  # another school's or pupil's: not confirmed
    await upsert_contact(
        conn,
        request.app.state.ctx.clock,
        principal.trust_id,
        contact_id=contact_id,
        pupil_id=pupil_id,
        **body.model_dump(mode="json"),
    )
    row, _ = await repo.find_contact(conn, principal, contact_id)
    return _contact_view(row)


@router.get(
    "/pupils/{pupil_id}/contacts",
    response_model=list[ContactView],
    responses=ERRORS,
    operation_id="list_contacts",
)
async def list_contacts(conn: SessionDep, principal: Reader, pupil_id: Id) -> list[ContactView]:
    """A pupil's contacts, by priority."""
    rows = await repo.pupil_contacts(conn, principal, pupil_id)
    if not rows:
        raise NotFound("No contacts for that pupil.")
    return [_contact_view(r) for r in rows]


@router.put(
    "/schools/{urn}/escalation-contacts/{role}/{staff_id}",
    response_model=StaffView,
    responses=ERRORS,
    operation_id="upsert_escalation_contact",
)
async def put_staff(
    request: Request,
    conn: SessionDep,
    principal: Registry,
    urn: Annotated[str, Path(pattern=r"^\d{6}$")],
    role: Annotated[str, Path(pattern=r"^(dsl|head)$")],
    staff_id: Id,
    body: StaffUpsert,
) -> StaffView:
    """Name a school's DSL or head, alerted by email or SMS when a report is at risk."""
    require_school(principal, urn)
    await upsert_escalation_contact(
        conn,
        request.app.state.ctx.clock,
        principal.trust_id,
        school_urn=urn,
        role=role,
        staff_id=staff_id,
        **body.model_dump(mode="json"),
    )
    return StaffView(school_urn=urn, role=role, staff_id=staff_id, **body.model_dump(mode="json"))


@router.put(
    "/trusts/{trust_id}/escalation-contacts/{staff_id}",
    response_model=StaffView,
    responses=ERRORS,
    operation_id="upsert_trust_escalation_contact",
)
async def put_trust_lead(
    request: Request,
    conn: SessionDep,
    principal: TrustLead,
    trust_id: str,
    staff_id: Id,
    body: StaffUpsert,
) -> StaffView:
    """Name a trust lead, alerted at 18:00 when a report is still at risk."""
    require_trust(principal, trust_id)
    await upsert_escalation_contact(
        conn,
        request.app.state.ctx.clock,
        principal.trust_id,
        school_urn=cl.TRUST_WIDE,
        role="trust_lead",
        staff_id=staff_id,
        **body.model_dump(mode="json"),
    )
    return StaffView(
        school_urn=cl.TRUST_WIDE,
        role="trust_lead",
        staff_id=staff_id,
        **body.model_dump(mode="json"),
    )


@router.get(
    "/schools/{urn}/escalation-contacts",
    response_model=list[StaffView],
    responses=ERRORS,
    operation_id="list_escalation_contacts",
)
async def list_staff(
    conn: SessionDep, principal: Lead, urn: Annotated[str, Path(pattern=r"^\d{6}$")]
) -> list[StaffView]:
    """Who is alerted for a school: its DSL and head, and the trust's leads."""
    require_school(principal, urn)
    if not await repo.school_known(conn, principal.trust_id, urn):
        raise NotFound("No such school.")
    rows = await repo.staff_for_school(conn, principal, urn)
    return [StaffView.model_validate(dict(r._mapping)) for r in rows]


def _policy_view(policy: cl.Policy) -> PolicyView:
    def hhmm(t):  # type: ignore[no-untyped-def]
        return t.strftime("%H:%M") if t else None

    return PolicyView(
        approval_mode=policy.approval_mode,
        fallback_minutes=policy.fallback_minutes,
        dsl_alert_time=hhmm(policy.dsl_alert_time),
        trust_alert_time=hhmm(policy.trust_alert_time),
        quiet_start=hhmm(policy.quiet_start),
        quiet_end=hhmm(policy.quiet_end),
    )


@router.put(
    "/schools/{urn}/parent-report-settings",
    response_model=PolicyView,
    responses=ERRORS,
    operation_id="put_school_parent_report_settings",
)
async def put_school_policy(
    request: Request,
    conn: SessionDep,
    principal: Lead,
    urn: Annotated[str, Path(pattern=r"^\d{6}$")],
    body: PolicyUpsert,
) -> PolicyView:
    """A school's overrides of the trust's parent-report settings (e.g. approve_first)."""
    require_school(principal, urn)
    if not await repo.school_known(conn, principal.trust_id, urn):
        raise NotFound("No such school.")
    values = {**body.model_dump(), "updated_at": request.app.state.ctx.clock.now()}
    await repo.upsert_policy(conn, principal.trust_id, urn, values)
    return _policy_view(await cl.policy_for(conn, principal.trust_id, urn))


@router.put(
    "/trusts/{trust_id}/parent-report-settings",
    response_model=PolicyView,
    responses=ERRORS,
    operation_id="put_trust_parent_report_settings",
)
async def put_trust_policy(
    request: Request,
    conn: SessionDep,
    principal: TrustLead,
    trust_id: str,
    body: PolicyUpsert,
) -> PolicyView:
    """The trust's parent-report settings, which schools may override."""
    require_trust(principal, trust_id)
    values = {**body.model_dump(), "updated_at": request.app.state.ctx.clock.now()}
    await repo.upsert_policy(conn, principal.trust_id, cl.TRUST_WIDE, values)
    return _policy_view(await cl.policy_for(conn, principal.trust_id, cl.TRUST_WIDE))


@router.get(
    "/schools/{urn}/parent-report-settings",
    response_model=PolicyView,
    responses=ERRORS,
    operation_id="get_school_parent_report_settings",
)
async def get_school_policy(
    conn: SessionDep, principal: Lead, urn: Annotated[str, Path(pattern=r"^\d{6}$")]
) -> PolicyView:
    """The settings in force for a school."""
    require_school(principal, urn)
    if not await repo.school_known(conn, principal.trust_id, urn):
        raise NotFound("No such school.")
    return _policy_view(await cl.policy_for(conn, principal.trust_id, urn))
