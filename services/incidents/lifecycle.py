"""After submission: amendments as new revisions, review, closure. Never an edit in place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import models as m
from services.incidents import repository as repo
from services.incidents.events import emit_flags, incident_payload
from services.incidents.schemas import Incident, IncidentCreate
from services.incidents.service import add_revision, build, input_json, to_incident
from shared.auth.principal import Principal
from shared.clock import Clock
from shared.errors import (
    CandourError,
    Conflict,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
    validation_errors,
)
from shared.events.payloads import Amendment, IncidentAmendedV1, IncidentReviewedV1
from shared.outbox.writer import record_event

# Changes parents must hear about (DOMAIN §1: a material amendment is reported too).
MATERIAL: tuple[str, ...] = (
    "/occurred_at",
    "/ended_at",
    "/intervention_type",
    "/interventions",
    "/injuries",
    "/pupil_ref",
    "/summary",
)


class PreconditionRequired(CandourError):
    """A write that must name the revision it read (If-Match) did not."""

    status, code, title = 428, "precondition-required", "Precondition required"


def diff(old: Any, new: Any, at: str = "") -> list[str]:
    """JSON pointers of what differs between two JSON documents."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            esc = str(key).replace("~", "~0").replace("/", "~1")
            out += diff(old.get(key), new.get(key), f"{at}/{esc}")
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            p
            for n, (a, b) in enumerate(zip(old, new, strict=True))
            for p in diff(a, b, f"{at}/{n}")
        ]
    return [] if old == new else [at or "/"]


def parse_etag(if_match: str | None) -> int:
    """The revision an ``If-Match`` names; a write without one is refused (428)."""
    if not if_match:
        raise PreconditionRequired("Send If-Match with the ETag of the revision you amend.")
    tag = if_match.strip()
    tag = tag.removeprefix("W/").strip('"')
    try:
        return int(tag)
    except ValueError:
        raise PreconditionFailed("If-Match does not name a revision of this record.") from None


async def _load(conn: AsyncConnection, principal: Principal, incident_id: str) -> sa.Row:
    row = await repo.get_incident(conn, principal, incident_id)
    if row is None:
        raise NotFound("No such incident.")
    return row


async def _bump(conn: AsyncConnection, row: Any, expected: int, values: dict[str, Any]) -> None:
    """Move the record to its next revision only if nobody else did first."""
    i = m.incident
    result = await conn.execute(
        i.update()
        .where(
            (i.c.trust_id == row.trust_id)
            & (i.c.incident_id == row.incident_id)
            & (i.c.revision == expected)
        )
        .values(**values, revision=expected + 1)
    )
    if result.rowcount != 1:
        raise PreconditionFailed(
            "The record has changed since you read it; read it again and re-apply.",
            headers={"ETag": f'"{row.revision}"'},
        )


async def apply_amendment(
    conn: AsyncConnection,
    principal: Principal,
    row: Any,
    body: IncidentCreate,
    clock: Clock,
    *,
    reason: str,
    expected: int,
) -> Incident:
    """A new revision holding ``body`` whole, with its author, reason and changed fields."""
    if expected != row.revision:
        raise PreconditionFailed(
            "The record has changed since you read it; read it again and re-apply.",
            headers={"ETag": f'"{row.revision}"'},
        )
    fixed = [
        f"/{key}"
        for key in ("school_urn", "source_system", "source_id")
        if getattr(body, key) != getattr(row, key)
    ]
    if fixed:
        # A record stays with its school and its source system's key.
        raise ValidationFailed(
            "These fields cannot change by amendment.",
            errors=[{"pointer": p, "detail": "cannot change by amendment"} for p in fixed],
        )
    values, school, pupil = await build(
        conn, principal, body, clock, historic=row.historic, recorded_at=row.recorded_at
    )
    before = await repo.get_revision(conn, row.trust_id, row.incident_id, row.revision)
    changed = diff((before.body or {}).get("input") if before else {}, input_json(body))
    if not changed:
        return to_incident(row)
    now = clock.now()
    for key in ("trust_id", "historic"):
        values.pop(key)
    await _bump(conn, row, expected, values)
    fresh = await _load(conn, principal, row.incident_id)
    incident = to_incident(fresh)
    full = {**fresh._mapping, "historic": row.historic}
    await add_revision(conn, full, body, incident, principal.subject, reason, changed, now)
    payload = incident_payload(full, school, pupil, status=fresh.status)
    material = any(c == p or c.startswith(p + "/") for c in changed for p in MATERIAL)
    amended = IncidentAmendedV1(
        **payload.model_dump(),
        amendment=Amendment(
            revision=fresh.revision,
            author=principal.subject,
            reason=reason,
            changed_fields=changed,
            material=material,
        ),
    )
    await record_event(
        conn,
        m.outbox,
        type="incident.amended.v1",
        trust_id=row.trust_id,
        school_urn=row.school_urn,
        subject_id=row.incident_id,
        subject_revision=fresh.revision,
        occurred_at=now,
        payload=amended,
    )
    old_codes = sorted(f["code"] for f in row.flags or [])
    if sorted(f["code"] for f in values["flags"] or []) != old_codes:
        await emit_flags(conn, full, school, now)
    return incident


async def amend(
    conn: AsyncConnection,
    principal: Principal,
    incident_id: str,
    changes: dict[str, Any],
    reason: str,
    if_match: str | None,
    clock: Clock,
) -> Incident:
    """Amend a submitted record: the changes laid over the current revision, checked whole."""
    expected = parse_etag(if_match)
    row = await _load(conn, principal, incident_id)
    current = await repo.get_revision(conn, row.trust_id, incident_id, row.revision)
    base: dict[str, Any] = ((current.body or {}).get("input") if current else None) or {}
    merged = {**base, **changes}
    try:
        body = IncidentCreate.model_validate(merged)
    except ValidationError as exc:
        errors = [
            {**e, "pointer": "/changes" + e["pointer"]}
            for e in validation_errors(exc.errors())  # type: ignore[arg-type]
        ]
        raise ValidationFailed(
            "The amended record is not valid; see errors.", errors=errors
        ) from None
    return await apply_amendment(
        conn, principal, row, body, clock, reason=reason, expected=expected
    )


async def _transition(
    conn: AsyncConnection,
    principal: Principal,
    incident_id: str,
    if_match: str | None,
    clock: Clock,
    *,
    to: str,
    allowed_from: tuple[str, ...],
    review: dict[str, Any] | None = None,
) -> Incident:
    row = await _load(conn, principal, incident_id)
    expected = parse_etag(if_match) if if_match else row.revision
    if row.status not in allowed_from:
        raise Conflict(f"A {row.status} record cannot become {to}.")
    now: datetime = clock.now()
    values: dict[str, Any] = {"status": to}
    if review is not None:
        values.update(review=review, reviewed_at=now)
    else:
        values.update(closed_at=now)
    await _bump(conn, row, expected, values)
    fresh = await _load(conn, principal, incident_id)
    incident = to_incident(fresh)
    before = await repo.get_revision(conn, row.trust_id, incident_id, row.revision)
    body = IncidentCreate.model_validate((before.body or {}).get("input") if before else {})
    reason = "reviewed" if review is not None else "closed"
    changed = ["/status", "/review"] if review is not None else ["/status", "/closed_at"]
    await add_revision(
        conn, dict(fresh._mapping), body, incident, principal.subject, reason, changed, now
    )
    current = review or fresh.review or {}
    await record_event(
        conn,
        m.outbox,
        type="incident.reviewed.v1",
        trust_id=row.trust_id,
        school_urn=row.school_urn,
        subject_id=incident_id,
        subject_revision=fresh.revision,
        occurred_at=now,
        payload=IncidentReviewedV1(
            incident_id=incident_id,
            revision=fresh.revision,
            status=to,  # type: ignore[arg-type]
            reviewed_at=fresh.reviewed_at or now,
            reviewer_role=principal.role,
            outcome=current.get("outcome"),
            support_plan_changed=bool(current.get("support_plan_changed")),
            handling_plan_changed=bool(current.get("handling_plan_changed")),
        ),
    )
    return incident


async def review(
    conn: AsyncConnection,
    principal: Principal,
    incident_id: str,
    outcome: str,
    support_plan_changed: bool,
    handling_plan_changed: bool,
    if_match: str | None,
    clock: Clock,
) -> Incident:
    """A school lead's or DSL's review: submitted -> reviewed."""
    data = {
        "reviewed_by": principal.subject,
        "reviewed_at": clock.now().isoformat(),
        "outcome": outcome,
        "support_plan_changed": support_plan_changed,
        "handling_plan_changed": handling_plan_changed,
    }
    return await _transition(
        conn,
        principal,
        incident_id,
        if_match,
        clock,
        to="reviewed",
        allowed_from=("submitted",),
        review=data,
    )


async def close(
    conn: AsyncConnection,
    principal: Principal,
    incident_id: str,
    if_match: str | None,
    clock: Clock,
) -> Incident:
    """Close a reviewed record: reviewed -> closed."""
    return await _transition(
        conn, principal, incident_id, if_match, clock, to="closed", allowed_from=("reviewed",)
    )
