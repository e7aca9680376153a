"""Reading incident events defensively: the sections we know, validated; the rest optional.

A newer producer may add fields (to ``report``, or a ``parent_report`` section with
``safeguarding_hold``, ``hold_reason`` and ``told_in_writing``); they are read here when
present and never fail the event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from shared.events import payloads as p


def parent_report_section(payload: dict[str, Any]) -> dict[str, Any]:
    """The optional ``parent_report`` section (hold, told in writing), or nothing."""
    section = payload.get("parent_report") or {}
    return section if isinstance(section, dict) else {}


SECTIONS: dict[str, type[BaseModel]] = {
    "incident": p.IncidentFacts,
    "pupil": p.PupilCharacteristics,
    "school": p.SchoolRef,
    "report": p.ReportContent,
}
# Optional parts of the written report the producer may add to the ``report`` section.
EXTRA_CONTENT = ("location", "why_necessary", "injuries", "support_offered")
# The incidents service names the reason for the intervention ``reason``.
ALIASES = {"why_necessary": ("why_necessary", "reason")}


def submitted(payload: dict[str, Any]) -> p.IncidentSubmittedV1:
    """The payload as we know it: fields a newer producer added are left for us to read
    separately, rather than failing the whole event."""
    known: dict[str, Any] = {}
    for name, model in SECTIONS.items():
        section = payload.get(name)
        if isinstance(section, dict):
            known[name] = {k: v for k, v in section.items() if k in model.model_fields}
        else:
            known[name] = section
    return p.IncidentSubmittedV1.model_validate(known)


def told_in_writing(section: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Contacts already told in writing: contact_id -> {told_at, how, by}."""
    told: dict[str, dict[str, Any]] = {}
    for item in section.get("told_in_writing") or []:
        if isinstance(item, dict) and item.get("contact_id"):
            told[str(item["contact_id"])] = item
    return told


def content(event: p.IncidentSubmittedV1, payload: dict[str, Any]) -> dict[str, Any]:
    """What the written report says, kept with the report."""
    facts = event.incident
    section = payload.get("report")
    report: dict[str, Any] = section if isinstance(section, dict) else {}
    extra: dict[str, str] = {}
    for key in EXTRA_CONTENT:
        for source in ALIASES.get(key, (key,)):
            value = report.get(source)
            if value:
                text = "; ".join(str(v) for v in value) if isinstance(value, list) else str(value)
                extra[key] = text[:4000]
                break
    return extra | {
        "pupil_name": event.report.pupil_name,
        "summary": event.report.summary,
        "school_name": event.school.name,
        "school_phone": event.school.phone,
        "school_email": event.school.email,
        "timezone": event.school.timezone,
        "occurred_at": facts.occurred_at.isoformat(),
        "ended_at": facts.ended_at.isoformat() if facts.ended_at else None,
        "duration_minutes": facts.duration_minutes,
        "intervention_type": facts.intervention_type,
    }


def when(value: Any) -> datetime | None:
    """An aware timestamp from the payload, or None (a naive one is not guessed at)."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo else None


def material(payload: dict[str, Any]) -> bool:
    """Whether an amendment is material (top-level ``material`` or ``amendment.material``)."""
    amendment = payload.get("amendment")
    nested = amendment.get("material") if isinstance(amendment, dict) else None
    return bool(payload.get("material") or nested)
