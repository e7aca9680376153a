"""The trust registry API: schools, pupils, staff, rolls, settings, audits, vocabulary."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Path, Request

from services.incidents import models as m
from services.incidents import registry
from services.incidents import registry_api as api
from services.incidents import repository as repo
from services.incidents import vocabulary_api as vocab
from services.incidents.audit import audit_trail
from services.incidents.dependencies import ClockDep
from services.incidents.registry_schemas import (
    AuditIn,
    LabelIn,
    LabelOut,
    LabelRef,
    PupilIn,
    PupilOut,
    RollIn,
    RollOut,
    SchoolIn,
    SchoolOut,
    SettingsIn,
    StaffIn,
    StaffOut,
    TrustIn,
    UnmappedLabel,
)
from shared.auth.dependencies import require_roles
from shared.auth.principal import Principal
from shared.db.session import SessionDep
from shared.errors import NotFound, problem_responses

router = APIRouter(prefix="/v1", tags=["registry"], dependencies=[Depends(audit_trail)])

Registrar = Annotated[Principal, Depends(require_roles("mis_client", "trust_lead"))]
TrustLead = Annotated[Principal, Depends(require_roles("trust_lead"))]
PupilReader = Annotated[
    Principal,
    Depends(require_roles("recorder", "school_lead", "dsl", "trust_lead", "mis_client")),
]
Urn = Annotated[str, Path(pattern=r"^\d{6}$")]
Ref = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
WRITE = problem_responses(403, 404)


def _school(row: Any) -> SchoolOut:
    return SchoolOut(**{k: getattr(row, k) for k in SchoolOut.model_fields})


@router.put(
    "/trust",
    response_model=dict[str, Any],
    operation_id="put_trust",
    responses=problem_responses(403),
)
async def put_trust(
    conn: SessionDep, principal: TrustLead, clock: ClockDep, body: TrustIn
) -> dict[str, Any]:
    """Register or rename the caller's own trust (with the default vocabulary mappings)."""
    await registry.upsert_trust(conn, clock, principal.trust_id, body.name)
    row = (
        await conn.execute(sa.select(m.trust).where(m.trust.c.trust_id == principal.trust_id))
    ).one()
    return {
        "trust_id": row.trust_id,
        "name": row.name,
        "vocabulary_version": row.vocabulary_version,
    }


@router.put("/schools/{urn}", response_model=SchoolOut, operation_id="put_school", responses=WRITE)
async def put_school(
    conn: SessionDep, principal: Registrar, clock: ClockDep, urn: Urn, body: SchoolIn
) -> SchoolOut:
    """Register or update a school (URN and LAESTAB checked; setting type derived)."""
    return _school(await api.put_school(conn, principal, clock, urn, body))


@router.get("/schools", response_model=list[SchoolOut], operation_id="list_schools")
async def list_schools(conn: SessionDep, principal: PupilReader) -> list[SchoolOut]:
    """The caller's schools."""
    s = m.school
    cond = s.c.trust_id == principal.trust_id
    if principal.schools is not None:
        cond = cond & s.c.urn.in_(sorted(principal.schools))
    rows = await conn.execute(sa.select(s).where(cond).order_by(s.c.urn))
    return [_school(r) for r in rows]


@router.put(
    "/schools/{urn}/pupils/{mis_ref}",
    response_model=PupilOut,
    operation_id="put_pupil",
    responses=WRITE,
)
async def put_pupil(
    conn: SessionDep,
    principal: Registrar,
    clock: ClockDep,
    urn: Urn,
    mis_ref: Ref,
    body: PupilIn,
    request: Request,
) -> PupilOut:
    """Register or update a pupil by MIS reference (UPN check letter validated)."""
    pid = await api.put_pupil(conn, principal, clock, urn, mis_ref, body)
    request.state.audit_pupil = pid
    row = await repo.get_pupil(conn, principal.trust_id, pid)
    return PupilOut(**{k: getattr(row, k) for k in PupilOut.model_fields})


@router.get(
    "/schools/{urn}/pupils/{mis_ref}",
    response_model=PupilOut,
    operation_id="get_pupil",
    responses=problem_responses(403, 404),
)
async def get_pupil(
    conn: SessionDep, principal: PupilReader, urn: Urn, mis_ref: Ref, request: Request
) -> PupilOut:
    """A pupil of one of the caller's schools."""
    row = None
    if principal.may_see_school(urn):
        row = await repo.get_pupil_by_ref(conn, principal.trust_id, urn, mis_ref)
    if row is None:
        raise NotFound("No such pupil.")
    request.state.audit_pupil = row.pupil_id
    return PupilOut(**{k: getattr(row, k) for k in PupilOut.model_fields})


@router.put(
    "/schools/{urn}/staff/{staff_ref}",
    response_model=StaffOut,
    operation_id="put_staff",
    responses=WRITE,
)
async def put_staff(
    conn: SessionDep, principal: Registrar, clock: ClockDep, urn: Urn, staff_ref: Ref, body: StaffIn
) -> StaffOut:
    """Register or update a member of staff, with training records."""
    await api.put_staff(conn, principal, clock, urn, staff_ref, body)
    return await _staff(conn, principal, urn, staff_ref)


@router.get(
    "/schools/{urn}/staff/{staff_ref}",
    response_model=StaffOut,
    operation_id="get_staff",
    responses=problem_responses(403, 404),
)
async def get_staff(conn: SessionDep, principal: PupilReader, urn: Urn, staff_ref: Ref) -> StaffOut:
    """A member of staff of one of the caller's schools, with training."""
    if not principal.may_see_school(urn):
        raise NotFound("No such member of staff.")
    return await _staff(conn, principal, urn, staff_ref)


async def _staff(conn: Any, principal: Principal, urn: str, ref: str) -> StaffOut:
    s, t = m.staff, m.staff_training
    key = (s.c.trust_id == principal.trust_id) & (s.c.school_urn == urn) & (s.c.staff_ref == ref)
    row = (await conn.execute(sa.select(s).where(key))).first()
    if row is None:
        raise NotFound("No such member of staff.")
    tkey = (t.c.trust_id == principal.trust_id) & (t.c.school_urn == urn) & (t.c.staff_ref == ref)
    training = [
        {
            "provider": r.provider,
            "course": r.course,
            "certification": r.certification,
            "techniques": r.techniques,
            "completed_date": str(r.completed_date),
            "expiry_date": str(r.expiry_date),
        }
        for r in await conn.execute(sa.select(t).where(tkey).order_by(t.c.provider, t.c.course))
    ]
    return StaffOut(
        school_urn=urn,
        staff_ref=ref,
        name=row.name,
        role=row.role,
        email=row.email,
        phone=row.phone,
        requires_training=row.requires_training,
        escalation_roles=[r for r in row.escalation_roles.split(",") if r],
        training=training,
    )


@router.put(
    "/schools/{urn}/rolls/{academic_year}",
    response_model=RollOut,
    operation_id="put_roll",
    responses=WRITE,
)
async def put_roll(
    conn: SessionDep,
    principal: Registrar,
    clock: ClockDep,
    urn: Urn,
    academic_year: Annotated[str, Path(max_length=7)],
    body: RollIn,
) -> RollOut:
    """A school's roll for an academic year ('2026-27'), with counts by characteristic."""
    ay = await api.put_roll(conn, principal, clock, urn, academic_year, body)
    return RollOut(
        school_urn=urn,
        academic_year=ay,
        total=body.total,
        counts={str(k): v for k, v in body.counts.items()},
    )


@router.put(
    "/trust/settings",
    response_model=dict[str, Any],
    operation_id="put_trust_settings",
    responses=problem_responses(403),
)
async def put_trust_settings(
    conn: SessionDep, principal: TrustLead, clock: ClockDep, body: SettingsIn
) -> dict[str, Any]:
    """Set the trust's settings (only the fields sent); answers the settings in force."""
    return await api.put_settings(conn, principal, clock, None, body)


@router.put(
    "/schools/{urn}/settings",
    response_model=dict[str, Any],
    operation_id="put_school_settings",
    responses=WRITE,
)
async def put_school_settings(
    conn: SessionDep, principal: TrustLead, clock: ClockDep, urn: Urn, body: SettingsIn
) -> dict[str, Any]:
    """Override trust settings for one school; answers the settings in force there."""
    return await api.put_settings(conn, principal, clock, urn, body)


@router.put(
    "/schools/{urn}/audit",
    response_model=dict[str, Any],
    operation_id="put_school_audit",
    responses=WRITE,
)
async def put_school_audit(
    conn: SessionDep, principal: TrustLead, clock: ClockDep, urn: Urn, body: AuditIn
) -> dict[str, Any]:
    """Record the trust's policy and data audit of a school."""
    return await api.put_audit(conn, principal, clock, urn, body)


@router.get("/vocabulary", response_model=dict[str, Any], operation_id="get_vocabulary")
async def get_vocabulary(conn: SessionDep, principal: PupilReader) -> dict[str, Any]:
    """The canonical terms and the trust's published version."""
    return {"version": await vocab.version(conn, principal.trust_id), "terms": vocab.terms()}


@router.get("/vocabulary/labels", response_model=list[LabelOut], operation_id="list_labels")
async def list_labels(conn: SessionDep, principal: TrustLead) -> list[LabelOut]:
    """Every label mapping, retired ones included."""
    return await vocab.list_labels(conn, principal)


@router.put(
    "/vocabulary/labels",
    response_model=LabelOut,
    operation_id="put_label",
    responses=WRITE,
)
async def put_label(
    conn: SessionDep, principal: TrustLead, clock: ClockDep, body: LabelIn
) -> LabelOut:
    """Map a school's or a provider's label onto a canonical term."""
    return await vocab.put_label(conn, principal, clock, body)


@router.post(
    "/vocabulary/labels/retire",
    status_code=204,
    operation_id="retire_label",
    responses=WRITE,
)
async def retire_label(
    conn: SessionDep, principal: TrustLead, clock: ClockDep, body: LabelRef
) -> None:
    """Retire a mapping (kept, never deleted)."""
    await vocab.retire_label(conn, principal, clock, body.scope, body.kind, body.label)


@router.post(
    "/vocabulary/publish", response_model=dict[str, int], operation_id="publish_vocabulary"
)
async def publish_vocabulary(
    conn: SessionDep, principal: TrustLead, clock: ClockDep
) -> dict[str, int]:
    """Publish the current mappings as a new vocabulary version."""
    return {"version": await vocab.publish(conn, principal, clock)}


@router.get(
    "/vocabulary/unmapped", response_model=list[UnmappedLabel], operation_id="list_unmapped"
)
async def list_unmapped(conn: SessionDep, principal: TrustLead) -> list[UnmappedLabel]:
    """Labels in use that map to nothing."""
    return await vocab.list_unmapped(conn, principal)
