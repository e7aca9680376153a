"""Use cases of the incidents service. Callers own the transaction; these only execute."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import models as m
from services.incidents import repository as repo
from services.incidents.schemas import Incident, IncidentCreate
from services.incidents.vocabulary import INTERVENTION_TYPES, is_significant, normalise_label
from shared.auth.principal import Principal
from shared.clock import Clock
from shared.errors import Conflict, ValidationFailed
from shared.events.payloads import (
    IncidentFacts,
    IncidentSubmittedV1,
    PupilCharacteristics,
    ReportContent,
    SchoolRef,
)
from shared.outbox.writer import record_event


def age_on(born: date | None, on: date) -> int | None:
    """Whole years of age on a date."""
    if born is None:
        return None
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def duration_minutes(start: datetime, end: datetime | None) -> int | None:
    """Minutes from start to end, rounded up: derived, never typed."""
    if end is None:
        return None
    seconds = (end - start).total_seconds()
    return int(-(-seconds // 60))


def to_incident(row: sa.Row) -> Incident:
    """The API view of a stored incident."""
    return Incident(
        incident_id=row.incident_id,
        trust_id=row.trust_id,
        school_urn=row.school_urn,
        pupil_id=row.pupil_id,
        pupil_ref=row.pupil_ref,
        status=row.status,
        revision=row.revision,
        occurred_at=row.occurred_at,
        ended_at=row.ended_at,
        duration_minutes=duration_minutes(row.occurred_at, row.ended_at),
        local_date=row.local_date,
        intervention_type=row.intervention_type,
        intervention_label=row.intervention_label,
        vocabulary_version=row.vocabulary_version,
        significant=is_significant(row.intervention_type),
        summary=row.summary,
        historic=row.historic,
        source_system=row.source_system,
        source_id=row.source_id,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
    )


def request_hash(body: IncidentCreate) -> str:
    """A stable digest of what was asked, to tell a replay from a different request."""
    raw = json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()


async def submit_incident(
    conn: AsyncConnection,
    principal: Principal,
    body: IncidentCreate,
    clock: Clock,
    *,
    idempotency_key: str | None = None,
    historic: bool = False,
) -> tuple[Incident, bool]:
    """Record a submitted incident and its ``incident.submitted.v1`` event.

    Returns the incident and whether it was created (False: a replay of the same request
    or an unchanged re-send of the same source record). Every problem with the body is
    reported at once, each with its JSON pointer.
    """
    trust_id = principal.trust_id
    digest = request_hash(body)
    if idempotency_key:
        previous = await repo.get_idempotent(conn, trust_id, principal.subject, idempotency_key)
        if previous is not None:
            if previous.request_hash != digest:
                raise Conflict(
                    "This Idempotency-Key was used for a different request body.",
                    errors=[{"pointer": "#/header/Idempotency-Key", "detail": "key reused"}],
                )
            row = await repo.get_incident(conn, principal, previous.incident_id)
            if row is not None:
                return to_incident(row), False

    problems: list[dict[str, str]] = []
    now = clock.now()
    school = None
    if principal.may_see_school(body.school_urn):
        school = await repo.get_school(conn, trust_id, body.school_urn)
    if school is None:
        problems.append(
            {
                "pointer": "/school_urn",
                "detail": "not a school of your trust that you may record for",
            }
        )
    pupil = None
    if school is not None:
        pupil = await repo.get_pupil_by_ref(conn, trust_id, body.school_urn, body.pupil_ref)
        if pupil is None:
            problems.append(
                {"pointer": "/pupil_ref", "detail": "no pupil with this reference at the school"}
            )
    if body.occurred_at > now:
        problems.append({"pointer": "/occurred_at", "detail": "is in the future"})
    if body.ended_at is not None:
        if body.ended_at < body.occurred_at:
            problems.append({"pointer": "/ended_at", "detail": "is before occurred_at"})
        if body.ended_at > now:
            problems.append({"pointer": "/ended_at", "detail": "is in the future"})
    code = None
    label = normalise_label(body.intervention_type)
    if label in INTERVENTION_TYPES:
        code = label
    elif school is not None:
        code = await repo.resolve_label(conn, trust_id, body.school_urn, "intervention_type", label)
    if code is None:
        problems.append(
            {
                "pointer": "/intervention_type",
                "detail": "neither a trust vocabulary code nor a label mapped to one",
            }
        )
    if bool(body.source_system) != bool(body.source_id):
        pointer = "/source_id" if body.source_system else "/source_system"
        problems.append({"pointer": pointer, "detail": "source_system and source_id go together"})
    if problems:
        raise ValidationFailed("The incident cannot be submitted; see errors.", errors=problems)
    assert school is not None and pupil is not None and code is not None

    if body.source_system and body.source_id:
        existing = await repo.find_by_source(
            conn, trust_id, body.school_urn, body.source_system, body.source_id
        )
        if existing is not None:
            same = (
                existing.occurred_at == body.occurred_at
                and existing.ended_at == body.ended_at
                and existing.intervention_label == body.intervention_type
                and existing.summary == body.summary
                and existing.pupil_id == pupil.pupil_id
            )
            if same:
                return to_incident(existing), False
            raise Conflict(
                "A different record with this source_system and source_id exists; "
                "send changes as an amendment.",
                errors=[{"pointer": "/source_id", "detail": "already recorded with other content"}],
            )

    trust_row = (await conn.execute(sa.select(m.trust).where(m.trust.c.trust_id == trust_id))).one()
    zone = ZoneInfo(school.timezone)
    local_date = body.occurred_at.astimezone(zone).date()
    incident_id = str(uuid.uuid4())
    values: dict[str, Any] = {
        "trust_id": trust_id,
        "incident_id": incident_id,
        "school_urn": body.school_urn,
        "pupil_id": pupil.pupil_id,
        "status": "submitted",
        "revision": 1,
        "occurred_at": body.occurred_at,
        "ended_at": body.ended_at,
        "local_date": local_date.isoformat(),
        "intervention_type": code,
        "intervention_label": body.intervention_type,
        "vocabulary_version": trust_row.vocabulary_version,
        "summary": body.summary,
        "historic": historic,
        "source_system": body.source_system,
        "source_id": body.source_id,
        "recorded_at": now,
        "recorded_by": principal.subject,
    }
    await conn.execute(m.incident.insert().values(**values))
    incident = to_incident(_RowLike({**values, "pupil_ref": pupil.mis_ref}))  # type: ignore[arg-type]
    await conn.execute(
        m.incident_revision.insert().values(
            trust_id=trust_id,
            incident_id=incident_id,
            revision=1,
            body=incident.model_dump(mode="json"),
            author=principal.subject,
            reason="submitted",
            created_at=now,
        )
    )
    if idempotency_key:
        await conn.execute(
            m.idempotency_key.insert().values(
                trust_id=trust_id,
                caller=principal.subject,
                key=idempotency_key,
                request_hash=digest,
                incident_id=incident_id,
                created_at=now,
            )
        )
    payload = IncidentSubmittedV1(
        incident=IncidentFacts(
            incident_id=incident_id,
            revision=1,
            status="submitted",
            occurred_at=body.occurred_at,
            ended_at=body.ended_at,
            duration_minutes=incident.duration_minutes,
            local_date=local_date.isoformat(),
            intervention_type=code,
            intervention_label=body.intervention_type,
            vocabulary_version=trust_row.vocabulary_version,
            significant=is_significant(code),
            historic=historic,
            recorded_at=now,
            source_system=body.source_system,
        ),
        pupil=PupilCharacteristics(
            pupil_id=pupil.pupil_id,
            sen_provision=pupil.sen_provision,
            year_group=pupil.year_group,
            gender=pupil.gender,
            fsm_eligible=pupil.fsm_eligible,
            ethnicity=pupil.ethnicity,
            age_years=age_on(pupil.date_of_birth, local_date),
        ),
        school=SchoolRef(
            urn=school.urn,
            name=school.name,
            timezone=school.timezone,
            setting_type=school.setting_type,
            phone=school.phone,
            email=school.email,
        ),
        report=ReportContent(
            pupil_name=pupil.preferred_name or pupil.legal_first_name,
            summary=body.summary,
        ),
    )
    await record_event(
        conn,
        m.outbox,
        type="incident.submitted.v1",
        trust_id=trust_id,
        school_urn=body.school_urn,
        subject_id=incident_id,
        subject_revision=1,
        occurred_at=now,
        payload=payload,
    )
    return incident, True


class _RowLike:
    """Attribute access over a dict, so a freshly written row renders like a read one."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
