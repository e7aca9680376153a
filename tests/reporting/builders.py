"""Keyword builders for events reporting consumes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.events.envelope import EventEnvelope
from shared.events.registry import event_type

T0 = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)


def envelope(
    type: str,
    payload: dict[str, Any],
    *,
    trust: str = "TR00001",
    school: str | None = "100001",
    subject: str = "s",
    revision: int = 1,
    sequence: int = 1,
    at: datetime = T0,
    producer: str = "incidents",
) -> EventEnvelope:
    """A valid envelope (the payload is checked against its registered model)."""
    checked = event_type(type).model_validate(payload).model_dump(mode="json")
    return EventEnvelope(
        event_id=uuid.uuid4(),
        type=type,
        sequence=sequence,
        producer=producer,
        occurred_at=at,
        trust_id=trust,
        school_urn=school,
        subject_id=subject,
        subject_revision=revision,
        payload=checked,
    )


def incident(
    incident_id: str = "i-1",
    *,
    revision: int = 1,
    school: str = "100001",
    setting: str = "primary",
    pupil: str = "p-1",
    sen: str = "N",
    kind: str = "physical_restraint",
    at: datetime = T0,
    recorded_after: timedelta = timedelta(hours=1),
    staff_injuries: int = 0,
    staff_ids: tuple[str, ...] = (),
    fsm_ever6: bool | None = None,
    **pupil_kw: Any,
) -> dict[str, Any]:
    """An incident payload (submitted or amended)."""
    return {
        "incident": {
            "incident_id": incident_id,
            "revision": revision,
            "status": "submitted",
            "occurred_at": at.isoformat(),
            "local_date": at.date().isoformat(),
            "intervention_type": kind,
            "intervention_label": kind.replace("_", " "),
            "vocabulary_version": 1,
            "significant": kind != "supportive_contact",
            "historic": True,
            "recorded_at": (at + recorded_after).isoformat(),
        },
        "pupil": {"pupil_id": pupil, "sen_provision": sen, "fsm_ever6": fsm_ever6, **pupil_kw},
        "school": {
            "urn": school,
            "name": f"School {school}",
            "timezone": "Europe/London",
            "setting_type": setting,
        },
        "report": {"pupil_name": "A", "summary": "s"},
        "record": {"staff_injury_count": staff_injuries, "staff_refs": list(staff_ids)},
    }


def amended(voided: bool = False, **kw: Any) -> dict[str, Any]:
    """An amendment payload."""
    body = incident(**kw)
    amendment = {
        "revision": body["incident"]["revision"],
        "author": "user:1",
        "reason": "corrected",
        "changed_fields": ["/intervention_type"],
        "material": True,
        "voided": voided,
    }
    return {**body, "amendment": amendment}


def report_event(
    kind: str, report_id: str = "r-1", incident_id: str = "i-1", **kw: Any
) -> dict[str, Any]:
    """A parent-report event payload as notifications emits it."""
    base: dict[str, Any] = {"report_id": report_id, "incident_id": incident_id, "pupil_id": "p-1"}
    at = kw.pop("at", T0 + timedelta(minutes=30))
    occurred = kw.pop("occurred", T0)
    if kind == "sent":
        base |= {
            "channel": "email",
            "provider": "notify",
            "sent_at": at.isoformat(),
            "incident_occurred_at": occurred.isoformat(),
        }
    elif kind == "delivered":
        base |= {
            "channel": "email",
            "provider": "notify",
            "delivered_at": at.isoformat(),
            "incident_occurred_at": occurred.isoformat(),
        }
    elif kind == "completed":
        base |= {
            "standard": kw.pop("standard", "met"),
            "incident_occurred_at": occurred.isoformat(),
            "local_date": occurred.date().isoformat(),
            "completed_at": at.isoformat(),
        }
    elif kind == "withheld":
        base |= {"withheld_at": at.isoformat(), "local_authority_required": False}
    base.update(kw)
    return base


def roll(
    school: str = "100001", year: str = "2026/27", total: int = 300, **counts: dict[str, int]
) -> dict[str, Any]:
    """A roll.updated payload as the incidents registry emits it."""
    return {"school_urn": school, "academic_year": year, "total": total, "counts": counts}


def flagged(incident_id: str, code: str, at: Any = T0, pupil: str = "p-1") -> dict[str, Any]:
    """A practice.flagged payload as the incidents rules emit it."""
    return {
        "incident_id": incident_id,
        "revision": 1,
        "pupil_id": pupil,
        "occurred_at": at.isoformat(),
        "local_date": at.date().isoformat(),
        "setting_type": "primary",
        "severity": "serious",
        "flags": [{"code": code, "severity": "serious", "detail": code.replace("_", " ")}],
    }


def staff(ref: str, school: str = "100001") -> dict[str, Any]:
    """A staff.updated payload (no names, no contacts)."""
    return {"school_urn": school, "staff_ref": ref}


def training(ref: str, completed: str, expires: str, school: str = "100001") -> dict[str, Any]:
    """A training.recorded payload."""
    return {
        "school_urn": school,
        "staff_ref": ref,
        "provider": "PRICE",
        "course": "Positive handling",
        "techniques": [],
        "completed_date": completed,
        "expiry_date": expires,
    }
