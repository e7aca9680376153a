"""Adapted written-report templates, and the parents' read confirmation."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from services.notifications import ledger, links, rendering
from services.notifications import models as m
from shared.auth.dependencies import require_roles, require_school, require_trust
from shared.auth.principal import Principal
from shared.db.session import SessionDep
from shared.errors import CandourError, NotFound, ValidationFailed, problem_responses
from shared.runtime import ServiceContext

router = APIRouter(prefix="/v1", tags=["templates and read confirmations"])
Lead = Annotated[Principal, Depends(require_roles("school_lead", "trust_lead"))]
TrustLead = Annotated[Principal, Depends(require_roles("trust_lead"))]
Name = Annotated[
    str,
    Path(
        pattern=r"^parent_report(\.[a-z]{2,3})?\.(txt|html|sms)\.j2$",
        examples=["parent_report.html.j2", "parent_report.cy.txt.j2"],
        description=(
            "parent_report.{txt,html,sms}.j2, or with a language between"
            " (parent_report.cy.txt.j2): used for parents whose contact asks for it"
        ),
    ),
]
SAMPLE: dict[str, Any] = {
    "contact_name": "Sam Parent",
    "pupil_name": "Alex Pupil",
    "school_name": "A School",
    "school_phone": "020 7946 0000",
    "school_email": "office@school.example.org",
    "occurred_date": "Friday 27 November 2026",
    "occurred_local": "Friday 27 November 2026, 10:00",
    "ended_local": "10:07",
    "duration_minutes": 7,
    "intervention": "Seclusion",
    "summary": "What happened.",
    "reason": None,
    "incident_ref": "abcd1234",
    "alert": "An alert.",
    "read_link": "https://example.org/v1/read/x",
    "update_note": None,
    "location": "The hall.",
    "why_necessary": "To keep everyone safe.",
    "injuries": None,
    "support_offered": "A talk with a trusted adult.",
}


class TemplateBody(BaseModel):
    """A Jinja2 template, rendered in the sandbox with allow-listed variables only."""

    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1, max_length=20000)


class TemplateView(BaseModel):
    """A stored template."""

    school_urn: str
    name: str
    source: str


class ReadConfirmation(BaseModel):
    """The parent's confirmation that they read the report."""

    read_at: Any
    first: bool


class LinkGone(CandourError):
    status, code, title = 410, "link-expired", "Link expired"


async def _store(
    request: Request, conn: Any, principal: Principal, urn: str, name: str, source: str
) -> TemplateView:
    why = rendering.check_template(name, source, SAMPLE)
    if why:
        raise ValidationFailed(errors=[{"pointer": "/source", "detail": why}])
    t = m.report_template
    key = (t.c.trust_id == principal.trust_id) & (t.c.school_urn == urn) & (t.c.name == name)
    values = {
        "source": source,
        "updated_by": principal.subject,
        "updated_at": request.app.state.ctx.clock.now(),
    }
    if (await conn.execute(sa.select(t.c.name).where(key))).first() is None:
        await conn.execute(
            t.insert().values(trust_id=principal.trust_id, school_urn=urn, name=name, **values)
        )
    else:
        await conn.execute(t.update().where(key).values(**values))
    return TemplateView(school_urn=urn, name=name, source=source)


@router.put(
    "/schools/{urn}/templates/{name}",
    response_model=TemplateView,
    responses=problem_responses(403, 404, 422),
    operation_id="put_school_template",
)
async def put_school_template(
    request: Request,
    conn: SessionDep,
    principal: Lead,
    urn: Annotated[str, Path(pattern=r"^\d{6}$")],
    name: Name,
    body: TemplateBody,
) -> TemplateView:
    """A school's adaptation of the trust's written-report template (checked in the sandbox)."""
    require_school(principal, urn)
    return await _store(request, conn, principal, urn, name, body.source)


@router.put(
    "/trusts/{trust_id}/templates/{name}",
    response_model=TemplateView,
    responses=problem_responses(403, 404, 422),
    operation_id="put_trust_template",
)
async def put_trust_template(
    request: Request,
    conn: SessionDep,
    principal: TrustLead,
    trust_id: str,
    name: Name,
    body: TemplateBody,
) -> TemplateView:
    """The trust's written-report template (checked in the sandbox)."""
    require_trust(principal, trust_id)
    return await _store(request, conn, principal, "*", name, body.source)


def _verify(request: Request, token: str) -> tuple[str, str]:
    ctx: ServiceContext = request.app.state.ctx
    try:
        return links.verify_token(ctx.settings, token, ctx.clock.now())
    except links.LinkInvalid:
        raise NotFound("No such link.") from None
    except links.LinkExpired:
        raise LinkGone("This link has expired; please contact the school.") from None


@router.get(
    "/read/{token}",
    response_class=HTMLResponse,
    responses=problem_responses(404, 410),
    operation_id="read_confirmation_page",
)
async def read_page(request: Request, token: Annotated[str, Path(max_length=400)]) -> HTMLResponse:
    """A page with one button: following a link (or a mail scanner) confirms nothing by itself."""
    _verify(request, token)
    return HTMLResponse(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Confirm</title>"
        "<form method=post><p>Please confirm you have read the school's report.</p>"
        "<button type=submit>I have read it</button></form></html>"
    )


@router.post(
    "/read/{token}",
    response_model=ReadConfirmation,
    responses=problem_responses(404, 410),
    operation_id="confirm_read",
)
async def confirm_read(
    request: Request, conn: SessionDep, token: Annotated[str, Path(max_length=400)]
) -> ReadConfirmation:
    """Record that the parent read the report (the first time stands; each one is audited)."""
    trust_id, message_id = _verify(request, token)
    now = request.app.state.ctx.clock.now()
    msg = m.message
    key = (msg.c.trust_id == trust_id) & (msg.c.message_id == message_id)
    row = (await conn.execute(sa.select(msg).where(key))).first()
    if row is None:
        raise NotFound("No such link.")
    report = await ledger.load(conn, trust_id, row.report_id)
    assert report is not None
    first = row.read_at is None
    if first:
        await conn.execute(msg.update().where(key).values(read_at=now))
    await ledger.note(conn, report, now, "read_confirmed", message_id=message_id, first=first)
    return ReadConfirmation(read_at=row.read_at or now, first=first)
