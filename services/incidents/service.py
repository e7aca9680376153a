"""Use cases of the incidents service. Callers own the transaction; these only execute."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import gather
from services.incidents import models as m
from services.incidents import repository as repo
from services.incidents.events import age_on, flags_payload, incident_payload, outbox_row
from services.incidents.record import canonical_sections, check_core, check_record, duration_minutes
from services.incidents.rules import Facts, evaluate, in_date, pupil_aged_20_plus
from services.incidents.schemas import Incident, IncidentCreate, IncidentDraft
from services.incidents.vocabulary import is_significant
from shared.auth.principal import Principal
from shared.clock import Clock
from shared.errors import Conflict, ValidationFailed

RESENT = "re-sent by the source system"
SECTION_KEYS = (
    "planned",
    "location",
    "activity",
    "antecedents",
    "triggers",
    "risk",
    "alternatives",
    "strategies",
    "interventions",
    "decision_test",
    "welfare",
    "injuries",
    "aftercare",
    "parent_report",
    "people",
)


def to_incident(row: Any) -> Incident:
    """The API view of a stored incident."""
    sections = row.record or {}
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
        flags=row.flags or [],
        review=row.review,
        closed_at=row.closed_at,
        **{k: sections.get(k) for k in SECTION_KEYS},
    )


def input_json(body: IncidentCreate) -> dict[str, Any]:
    """The body as given, minus its status: what a re-send is compared on."""
    data = body.model_dump(mode="json", exclude={"status"})
    return {k: v for k, v in data.items() if v is not None}


def request_hash(body: IncidentCreate) -> str:
    """A stable digest of what was asked, to tell a replay from a different request."""
    raw = json.dumps(body.model_dump(mode="json"), sort_keys=True).encode()
    return hashlib.sha256(raw).hexdigest()


class _RowLike:
    """Attribute access over a dict, so a freshly written row renders like a read one."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


async def check_only(
    conn: AsyncConnection, principal: Principal, body: IncidentCreate, clock: Clock
) -> list[dict[str, str]]:
    """What a submission of ``body`` would be refused for, without writing anything."""
    look, _, _ = await gather.lookup(conn, principal, body)
    return check_record(body, look, clock.now())


async def build(
    conn: AsyncConnection,
    principal: Principal,
    body: IncidentCreate,
    clock: Clock,
    *,
    historic: bool,
    recorded_at: datetime | None = None,
    cache: gather.Cache | None = None,
) -> tuple[dict[str, Any], sa.Row, sa.Row]:
    """Check a body whole and derive the incident row's values (without id and revision).

    Historic records from an old MIS may hold only the core fields; live submissions must
    be complete. Every problem is raised at once, each with its JSON pointer.
    """
    trust_id = principal.trust_id
    now = clock.now()
    look, school, pupil = await gather.lookup(conn, principal, body, cache)
    thin = historic and body.interventions is None
    problems = check_core(body, look, now) if thin else check_record(body, look, now)
    if problems:
        exc = ValidationFailed("The incident cannot be submitted; see errors.", errors=problems)
        # The router counts labels that map to nothing, for the trust to map them.
        exc.unmapped = look.unmapped()  # type: ignore[attr-defined]
        exc.school_urn = body.school_urn if look.school_ok else None  # type: ignore[attr-defined]
        raise exc
    assert school is not None and pupil is not None and body.occurred_at and body.intervention_type
    assert body.summary is not None and body.school_urn is not None
    zone = ZoneInfo(school.timezone)
    local_date = body.occurred_at.astimezone(zone).date()
    recorded = recorded_at or now
    urn = school.urn
    settings = await gather.cached(
        cache, ("settings", urn), lambda: gather.settings_for(conn, trust_id, urn)
    )
    refs = frozenset(ref for iv in body.interventions or [] for ref in iv.staff or [])
    training = await gather.cached(
        cache, ("training", urn, refs), lambda: gather.training_of(conn, trust_id, urn, set(refs))
    )
    sections = None
    if not thin:
        in_date_map: dict[str, bool | None] = {}
        for n, iv in enumerate(body.interventions or []):
            tech = look.techniques.get(iv.technique) if iv.technique else None
            for ref in iv.staff or []:
                in_date_map[f"{n}:{ref}"] = in_date(training.get(ref, []), tech, local_date)
        sections = canonical_sections(body, look, in_date_map)
        staff = {
            s["staff_ref"]: {"staff_ref": s["staff_ref"], "name": s["name"]}
            for iv in sections["interventions"]
            for s in iv["staff"]
        }
        sections["people"] = {
            "pupil_name": pupil.preferred_name or pupil.legal_first_name,
            "pupil_legal_name": f"{pupil.legal_first_name} {pupil.legal_last_name}",
            "staff": list(staff.values()),
        }
    facts = Facts(
        record=sections or {},
        incident_local_date=local_date,
        recorded_local_date=recorded.astimezone(zone).date(),
        occurred_at=body.occurred_at,
        ended_at=body.ended_at,
        recorded_at=recorded,
        pupil_age=age_on(pupil.date_of_birth, local_date),
        handling_plan=pupil.handling_plan,
        training=training,
        settings=settings,
        historic=historic,
    )
    flags = pupil_aged_20_plus(facts) if thin else evaluate(facts)
    trust_row = await gather.cached(cache, ("trust",), lambda: _trust(conn, trust_id))
    values: dict[str, Any] = {
        "trust_id": trust_id,
        "school_urn": body.school_urn,
        "pupil_id": pupil.pupil_id,
        "occurred_at": body.occurred_at,
        "ended_at": body.ended_at,
        "local_date": local_date.isoformat(),
        "intervention_type": look.types[body.intervention_type],
        "intervention_label": body.intervention_type,
        "vocabulary_version": trust_row.vocabulary_version,
        "summary": body.summary,
        "historic": historic,
        "source_system": body.source_system,
        "source_id": body.source_id,
        "record": sections,
        "flags": flags,
    }
    return values, school, pupil


async def _trust(conn: AsyncConnection, trust_id: str) -> sa.Row:
    return (await conn.execute(sa.select(m.trust).where(m.trust.c.trust_id == trust_id))).one()


async def submit_incident(
    conn: AsyncConnection,
    principal: Principal,
    body: IncidentCreate,
    clock: Clock,
    *,
    idempotency_key: str | None = None,
    historic: bool = False,
    incident_id: str | None = None,
) -> tuple[Incident | IncidentDraft, bool]:
    """Record an incident (or keep a draft) and emit its events.

    Returns the record and whether it was created (False: a replay of the same request,
    or a re-send of the same source record, which becomes a new revision if it changed).
    A concurrent twin (same key, or same natural key) that committed first makes this
    one a replay: the unique index decides, and the work is retried once to find it.
    """
    for attempt in (1, 2):
        try:
            async with conn.begin_nested():
                return await _record(
                    conn, principal, body, clock, idempotency_key, historic, incident_id
                )
        except IntegrityError:
            if attempt == 2:
                raise Conflict("A concurrent request recorded this; send it again.") from None
    raise AssertionError("unreachable")


async def _record(
    conn: AsyncConnection,
    principal: Principal,
    body: IncidentCreate,
    clock: Clock,
    idempotency_key: str | None,
    historic: bool,
    incident_id: str | None,
) -> tuple[Incident | IncidentDraft, bool]:
    from services.incidents import drafts  # drafts build on this module

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
            found = await drafts.get_any(conn, principal, previous.incident_id, clock)
            if found is not None:
                return found, False
    if body.status == "draft":
        result: Incident | IncidentDraft = await drafts.save_draft(conn, principal, body, clock)
        created = True
    else:
        result, created = await _submit(conn, principal, body, clock, historic, incident_id)
    if idempotency_key and created:
        await conn.execute(
            m.idempotency_key.insert().values(
                trust_id=trust_id,
                caller=principal.subject,
                key=idempotency_key,
                request_hash=digest,
                incident_id=result.incident_id,
                created_at=clock.now(),
            )
        )
    return result, created


async def _submit(
    conn: AsyncConnection,
    principal: Principal,
    body: IncidentCreate,
    clock: Clock,
    historic: bool,
    incident_id: str | None,
    cache: gather.Cache | None = None,
) -> tuple[Incident, bool]:
    values, school, pupil = await build(
        conn, principal, body, clock, historic=historic, cache=cache
    )
    if body.source_system and body.source_id and body.school_urn:
        existing = await repo.find_by_source(
            conn, principal.trust_id, body.school_urn, body.source_system, body.source_id
        )
        if existing is not None:
            latest = await repo.get_revision(
                conn, principal.trust_id, existing.incident_id, existing.revision
            )
            if latest is not None and (latest.body or {}).get("input") == input_json(body):
                return to_incident(existing), False
            from services.incidents.lifecycle import apply_amendment

            amended = await apply_amendment(
                conn, principal, existing, body, clock, reason=RESENT, expected=existing.revision
            )
            if cache is not None:
                cache[("amended", existing.incident_id)] = True  # the import reports it so
            return amended, False
    prepared = prepare_new(principal, body, clock, (values, school, pupil), incident_id)
    await write_prepared(conn, [prepared])
    return prepared.incident, True


@dataclass
class Prepared:
    """A new record's rows, ready to write alone or in a batch."""

    incident: Incident
    values: dict[str, Any]
    revision: dict[str, Any]
    events: list[dict[str, Any]]


def prepare_new(
    principal: Principal,
    body: IncidentCreate,
    clock: Clock,
    built: tuple[dict[str, Any], sa.Row, sa.Row],
    incident_id: str | None = None,
) -> Prepared:
    """The rows of a new record: the incident, its first revision, its events."""
    values, school, pupil = built
    now = clock.now()
    values.update(
        incident_id=incident_id or str(uuid.uuid4()),
        status="submitted",
        revision=1,
        recorded_at=now,
        recorded_by=principal.subject,
    )
    incident = to_incident(
        _RowLike({**values, "pupil_ref": pupil.mis_ref, "review": None, "closed_at": None})
    )
    revision = {
        "trust_id": values["trust_id"],
        "incident_id": values["incident_id"],
        "revision": 1,
        "body": {"input": input_json(body), "incident": incident.model_dump(mode="json")},
        "author": principal.subject,
        "reason": "submitted",
        "changed_fields": None,
        "pupil_id": values["pupil_id"],
        "created_at": now,
    }
    events = [
        outbox_row("incident.submitted.v1", values, incident_payload(values, school, pupil), now)
    ]
    flagged = flags_payload(values, school)
    if flagged is not None:
        events.append(outbox_row("practice.flagged.v1", values, flagged, now))
    return Prepared(incident, values, revision, events)


async def write_prepared(conn: AsyncConnection, batch: list[Prepared]) -> None:
    """Write new records: three statements however many records."""
    await conn.execute(m.incident.insert(), [p.values for p in batch])
    await conn.execute(m.incident_revision.insert(), [p.revision for p in batch])
    await conn.execute(m.outbox.insert(), [e for p in batch for e in p.events])


async def add_revision(
    conn: AsyncConnection,
    values: dict[str, Any],
    body: IncidentCreate,
    incident: Incident,
    author: str,
    reason: str,
    changed: list[str] | None,
    now: datetime,
) -> None:
    """Keep a revision whole: the body as given and the record as it then stood."""
    await conn.execute(
        m.incident_revision.insert().values(
            trust_id=values["trust_id"],
            incident_id=values["incident_id"],
            revision=values["revision"],
            body={"input": input_json(body), "incident": incident.model_dump(mode="json")},
            author=author,
            reason=reason,
            changed_fields=changed,
            pupil_id=values["pupil_id"],
            created_at=now,
        )
    )
