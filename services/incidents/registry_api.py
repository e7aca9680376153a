"""Registry use cases for MIS clients and trust leads: upserts by natural keys, with events."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import gather, registry
from services.incidents import models as m
from services.incidents import repository as repo
from services.incidents.codes import (
    ETHNICITY,
    YEAR_GROUPS,
    laestab_problem,
    normalise_upn,
    upn_problem,
    urn_problem,
)
from services.incidents.registry_schemas import (
    AuditIn,
    PupilIn,
    RollIn,
    SchoolIn,
    SettingsIn,
    StaffIn,
)
from services.incidents.vocabulary import TECHNIQUES, normalise_label
from shared.auth.principal import Principal
from shared.clock import Clock
from shared.errors import NotFound, ValidationFailed
from shared.events.payloads import (
    PupilCharacteristics,
    PupilUpdatedV1,
    RollUpdatedV1,
    SchoolAuditRecordedV1,
    StaffContact,
    StaffUpdatedV1,
    TrainingRecordedV1,
    TrustSettingsChangedV1,
)
from shared.ids import pupil_id as make_pupil_id
from shared.outbox.writer import record_event

Problems = list[dict[str, str]]
YEAR_RE = re.compile(r"^(\d{4})-(\d{2})$")


def _raise(problems: Problems, what: str) -> None:
    if problems:
        raise ValidationFailed(f"The {what} cannot be recorded; see errors.", errors=problems)


async def _event(conn: AsyncConnection, clock: Clock, principal: Principal, **kw: Any) -> None:
    await record_event(conn, m.outbox, trust_id=principal.trust_id, occurred_at=clock.now(), **kw)


async def school_in_scope(conn: AsyncConnection, principal: Principal, urn: str) -> sa.Row:
    """A registered school the caller may act for, else 404."""
    school = None
    if principal.may_see_school(urn):
        school = await repo.get_school(conn, principal.trust_id, urn)
    if school is None:
        raise NotFound("No such school.")
    return school


async def put_school(
    conn: AsyncConnection, principal: Principal, clock: Clock, urn: str, body: SchoolIn
) -> sa.Row:
    """Register or update a school; URN and LAESTAB checked, setting type derived."""
    if not principal.may_see_school(urn):
        raise NotFound("No such school.")
    problems: Problems = []
    if (why := urn_problem(urn)) is not None:
        problems.append({"pointer": "#/path/urn", "detail": why})
    if body.laestab is not None and (why := laestab_problem(body.laestab)) is not None:
        problems.append({"pointer": "/laestab", "detail": why})
    try:
        ZoneInfo(body.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append({"pointer": "/timezone", "detail": "not an IANA time zone"})
    _raise(problems, "school")
    await registry.upsert_school(conn, clock, principal.trust_id, urn=urn, **body.model_dump())
    school = await repo.get_school(conn, principal.trust_id, urn)
    assert school is not None
    return school


async def _techniques(
    conn: AsyncConnection, trust_id: str, urn: str, labels: list[str], at: str, problems: Problems
) -> list[str]:
    resolved = await gather._resolve(conn, trust_id, urn, "technique", TECHNIQUES, set(labels))
    out = []
    for n, label in enumerate(labels):
        code = resolved.get(label)
        if code is None:
            problems.append(
                {"pointer": f"{at}/{n}", "detail": "not a technique, nor mapped to one"}
            )
        else:
            out.append(code)
    return sorted(set(out))


async def put_pupil(
    conn: AsyncConnection,
    principal: Principal,
    clock: Clock,
    urn: str,
    mis_ref: str,
    body: PupilIn,
) -> str:
    """Register or update a pupil by the school's MIS reference; emits ``pupil.updated``."""
    await school_in_scope(conn, principal, urn)
    problems: Problems = []
    upn = None
    if body.upn:
        if (why := upn_problem(body.upn)) is not None:
            problems.append({"pointer": "/upn", "detail": why})
        upn = normalise_upn(body.upn)
    if body.year_group is not None and body.year_group.upper() not in YEAR_GROUPS:
        problems.append({"pointer": "/year_group", "detail": "not a census year group"})
    if body.ethnicity is not None and body.ethnicity.upper() not in ETHNICITY:
        problems.append({"pointer": "/ethnicity", "detail": "not a census main ethnicity code"})
    plan = None
    if body.handling_plan is not None:
        plan = await _techniques(
            conn,
            principal.trust_id,
            urn,
            body.handling_plan.techniques,
            "/handling_plan/techniques",
            problems,
        )
    _raise(problems, "pupil")
    pid = make_pupil_id(principal.trust_id, urn, mis_ref)
    values = body.model_dump(exclude={"handling_plan", "upn"})
    values.update(
        upn=upn,
        year_group=body.year_group.upper() if body.year_group else None,
        ethnicity=body.ethnicity.upper() if body.ethnicity else None,
        handling_plan=plan,
        school_urn=urn,
        mis_ref=mis_ref,
        updated_at=clock.now(),
    )
    changed = await registry.upsert(
        conn, m.pupil, {"trust_id": principal.trust_id, "pupil_id": pid}, values
    )
    if changed:
        await _event(
            conn,
            clock,
            principal,
            type="pupil.updated.v1",
            school_urn=urn,
            subject_id=pid,
            subject_revision=1,
            payload=PupilUpdatedV1(
                school_urn=urn,
                pupil=PupilCharacteristics(
                    pupil_id=pid,
                    sen_provision=body.sen_provision,
                    year_group=values["year_group"],
                    gender=body.gender,
                    fsm_eligible=body.fsm_eligible,
                    ethnicity=values["ethnicity"],
                ),
                fsm_ever6=body.fsm_ever6,
                handling_plan_on_file=plan is not None,
            ),
        )
    return pid


async def put_staff(
    conn: AsyncConnection,
    principal: Principal,
    clock: Clock,
    urn: str,
    staff_ref: str,
    body: StaffIn,
) -> None:
    """Register or update a member of staff and their training; one event per change."""
    await school_in_scope(conn, principal, urn)
    problems: Problems = []
    trainings = []
    for n, t in enumerate(body.training):
        codes = await _techniques(
            conn, principal.trust_id, urn, t.techniques, f"/training/{n}/techniques", problems
        )
        if t.expiry_date < t.completed_date:
            problems.append(
                {"pointer": f"/training/{n}/expiry_date", "detail": "is before completed_date"}
            )
        trainings.append((t, codes))
    _raise(problems, "member of staff")
    trust_id = principal.trust_id
    fields = body.model_dump(exclude={"training"})
    changed = await registry.upsert_staff(
        conn, clock, trust_id, school_urn=urn, staff_ref=staff_ref, **fields
    )
    if changed:
        await _event(
            conn,
            clock,
            principal,
            type="staff.updated.v1",
            school_urn=urn,
            subject_id=staff_ref,
            subject_revision=1,
            payload=StaffUpdatedV1(
                school_urn=urn,
                staff_ref=staff_ref,
                role=body.role,
                contact=StaffContact(email=body.email, phone=body.phone),
                escalation_roles=list(body.escalation_roles),
                requires_training=body.requires_training,
            ),
        )
    for t, codes in trainings:
        details = t.model_dump(exclude={"techniques"})
        if await registry.record_training(
            conn, clock, trust_id, school_urn=urn, staff_ref=staff_ref, techniques=codes, **details
        ):
            await _event(
                conn,
                clock,
                principal,
                type="training.recorded.v1",
                school_urn=urn,
                subject_id=staff_ref,
                subject_revision=1,
                payload=TrainingRecordedV1(
                    school_urn=urn,
                    staff_ref=staff_ref,
                    provider=t.provider,
                    course=t.course,
                    certification=t.certification,
                    techniques=codes,
                    completed_date=t.completed_date.isoformat(),
                    expiry_date=t.expiry_date.isoformat(),
                ),
            )


def academic_year(path_year: str) -> str | None:
    """'2026-27' in a path is the academic year 2026/27; None when it is not one."""
    match = YEAR_RE.match(path_year)
    if match is None or (int(match[1]) + 1) % 100 != int(match[2]):
        return None
    return f"{match[1]}/{match[2]}"


async def put_roll(
    conn: AsyncConnection, principal: Principal, clock: Clock, urn: str, year: str, body: RollIn
) -> str:
    """A school's roll for an academic year: counts by characteristic never exceed the total."""
    await school_in_scope(conn, principal, urn)
    problems: Problems = []
    ay = academic_year(year)
    if ay is None:
        problems.append({"pointer": "#/path/academic_year", "detail": "an academic year: 2026-27"})
    for name, counts in body.counts.items():
        if any(v < 0 for v in counts.values()):
            problems.append({"pointer": f"/counts/{name}", "detail": "counts are never negative"})
        elif sum(counts.values()) > body.total:
            problems.append({"pointer": f"/counts/{name}", "detail": "adds up to more than total"})
    _raise(problems, "roll")
    assert ay is not None
    key = {"trust_id": principal.trust_id, "school_urn": urn, "academic_year": ay}
    values = {"total": body.total, "counts": body.counts, "updated_at": clock.now()}
    if await registry.upsert(conn, m.roll, key, values):
        await _event(
            conn,
            clock,
            principal,
            type="roll.updated.v1",
            school_urn=urn,
            subject_id=f"{urn}:{ay}",
            subject_revision=1,
            payload=RollUpdatedV1(
                school_urn=urn,
                academic_year=ay,
                total=body.total,
                counts={str(k): v for k, v in body.counts.items()},
            ),
        )
    return ay


async def put_settings(
    conn: AsyncConnection, principal: Principal, clock: Clock, urn: str | None, body: SettingsIn
) -> dict[str, Any]:
    """Set the trust's settings or a school's overrides (only the fields sent)."""
    scope = ""
    if urn is not None:
        await school_in_scope(conn, principal, urn)
        scope = urn
    problems: Problems = []
    for n, code in enumerate(body.prohibited_techniques or []):
        if normalise_label(code) not in TECHNIQUES:
            problems.append(
                {"pointer": f"/prohibited_techniques/{n}", "detail": "not a canonical technique"}
            )
    _raise(problems, "settings")
    ts = m.trust_setting
    current = await conn.scalar(
        sa.select(ts.c.settings).where(
            (ts.c.trust_id == principal.trust_id) & (ts.c.scope == scope)
        )
    )
    sent = body.model_dump(mode="json", exclude_none=True)
    merged = {**(current or {}), **sent}
    if await registry.put_settings(conn, clock, principal.trust_id, scope, merged):
        effective = await gather.settings_for(conn, principal.trust_id, urn or "")
        await _event(
            conn,
            clock,
            principal,
            type="trust.settings_changed.v1",
            school_urn=urn,
            subject_id=urn or principal.trust_id,
            subject_revision=1,
            payload=TrustSettingsChangedV1(school_urn=urn, settings=merged, effective=effective),
        )
    return await gather.settings_for(conn, principal.trust_id, urn or "")


async def put_audit(
    conn: AsyncConnection, principal: Principal, clock: Clock, urn: str, body: AuditIn
) -> dict[str, Any]:
    """Record the trust's policy and data audit of a school."""
    await school_in_scope(conn, principal, urn)
    answers = body.model_dump(mode="json")
    key = {"trust_id": principal.trust_id, "school_urn": urn}
    values = {"answers": answers, "recorded_by": principal.subject, "recorded_at": clock.now()}
    if await registry.upsert(conn, m.school_audit, key, values):
        await _event(
            conn,
            clock,
            principal,
            type="school.audit_recorded.v1",
            school_urn=urn,
            subject_id=urn,
            subject_revision=1,
            payload=SchoolAuditRecordedV1(school_urn=urn, answers=answers, recorded_at=clock.now()),
        )
    return answers
