"""Completeness and consistency of a record: pure functions, no I/O.

The service looks up what the body refers to (school, pupil, staff, vocabulary) into a
``Lookup``; ``check_record`` then lists every problem with its JSON pointer, so a refused
submission is answered once, completely.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.incidents.schemas import IncidentCreate

Problem = dict[str, str]

REQUIRED_TEXT = ("location", "antecedents", "triggers")
ATTESTATIONS = ("necessity", "proportionality", "shortest_time", "welfare")


@dataclass
class Lookup:
    """What the body's references resolved to."""

    school_ok: bool = False
    pupil_ok: bool = False
    staff: dict[str, str] = field(default_factory=dict)  # staff_ref -> name
    types: dict[str, str | None] = field(default_factory=dict)  # label -> code
    techniques: dict[str, str | None] = field(default_factory=dict)
    strategies: dict[str, str | None] = field(default_factory=dict)
    # technique label -> what its mapping adds: {"position": ..., "staff_count": ...}
    technique_attrs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def unmapped(self) -> list[tuple[str, str]]:
        """(kind, label) of every label that resolved to nothing."""
        kinds = {
            "intervention_type": self.types,
            "technique": self.techniques,
            "strategy": self.strategies,
        }
        return [(k, label) for k, found in kinds.items() for label, c in found.items() if c is None]


def duration_minutes(start: datetime, end: datetime | None) -> int | None:
    """Minutes from start to end, rounded up: derived, never typed."""
    if end is None:
        return None
    seconds = (end - start).total_seconds()
    return int(-(-seconds // 60))


def _missing(problems: list[Problem], pointer: str) -> None:
    problems.append({"pointer": pointer, "detail": "is required for submission"})


def check_core(body: IncidentCreate, look: Lookup, now: datetime) -> list[Problem]:
    """The fields every record needs, historic ones included, and their consistency."""
    problems: list[Problem] = []
    if not body.school_urn:
        _missing(problems, "/school_urn")
    elif not look.school_ok:
        problems.append(
            {"pointer": "/school_urn", "detail": "not a school of your trust you may record for"}
        )
    if not body.pupil_ref:
        _missing(problems, "/pupil_ref")
    elif look.school_ok and not look.pupil_ok:
        problems.append(
            {"pointer": "/pupil_ref", "detail": "no pupil with this reference at the school"}
        )
    if body.occurred_at is None:
        _missing(problems, "/occurred_at")
    elif body.occurred_at > now:
        problems.append({"pointer": "/occurred_at", "detail": "is in the future"})
    if body.ended_at is not None:
        if body.occurred_at is not None and body.ended_at < body.occurred_at:
            problems.append({"pointer": "/ended_at", "detail": "is before occurred_at"})
        if body.ended_at > now:
            problems.append({"pointer": "/ended_at", "detail": "is in the future"})
    if not body.intervention_type:
        _missing(problems, "/intervention_type")
    elif look.types.get(body.intervention_type) is None:
        problems.append(
            {
                "pointer": "/intervention_type",
                "detail": "neither a trust vocabulary code nor a label mapped to one",
            }
        )
    if not body.summary:
        _missing(problems, "/summary")
    if bool(body.source_system) != bool(body.source_id):
        pointer = "/source_id" if body.source_system else "/source_system"
        problems.append({"pointer": pointer, "detail": "source_system and source_id go together"})
    return problems


def check_record(body: IncidentCreate, look: Lookup, now: datetime) -> list[Problem]:
    """Every problem that stands between this body and a complete, consistent submission."""
    problems = check_core(body, look, now)
    if body.ended_at is None:
        _missing(problems, "/ended_at")
    if body.planned is None:
        _missing(problems, "/planned")
    for name in REQUIRED_TEXT:
        if not getattr(body, name):
            _missing(problems, f"/{name}")
    _check_risk(body, problems)
    _check_alternatives(body, look, problems)
    _check_interventions(body, look, now, problems)
    _check_decision_test(body, problems)
    _check_welfare_aftercare(body, problems)
    _check_injuries(body, look, problems)
    _check_parent_report(body, now, problems)
    return problems


def _check_risk(body: IncidentCreate, problems: list[Problem]) -> None:
    if body.risk is None:
        _missing(problems, "/risk")
        return
    if not body.risk.presented:
        _missing(problems, "/risk/presented")
    if not body.risk.to:
        _missing(problems, "/risk/to")
    if body.risk.severity is None:
        _missing(problems, "/risk/severity")


def _check_alternatives(body: IncidentCreate, look: Lookup, problems: list[Problem]) -> None:
    alt = body.alternatives
    if alt is None:
        _missing(problems, "/alternatives")
        return
    if alt.strategies is None:
        _missing(problems, "/alternatives/strategies")
    for n, label in enumerate(alt.strategies or []):
        if look.strategies.get(label) is None:
            problems.append(
                {
                    "pointer": f"/alternatives/strategies/{n}",
                    "detail": "not a de-escalation strategy of the vocabulary, nor mapped to one",
                }
            )
    if not alt.why_insufficient:
        _missing(problems, "/alternatives/why_insufficient")


def _check_interventions(
    body: IncidentCreate, look: Lookup, now: datetime, problems: list[Problem]
) -> None:
    if not body.interventions:
        _missing(problems, "/interventions")
        return
    start, end = body.occurred_at, body.ended_at
    for n, iv in enumerate(body.interventions):
        at = f"/interventions/{n}"
        code = None
        if not iv.type:
            _missing(problems, f"{at}/type")
        else:
            code = look.types.get(iv.type)
            if code is None:
                problems.append(
                    {"pointer": f"{at}/type", "detail": "not a vocabulary type, nor mapped to one"}
                )
        if iv.technique and look.techniques.get(iv.technique) is None:
            problems.append(
                {"pointer": f"{at}/technique", "detail": "not a technique, nor mapped to one"}
            )
        if code in ("physical_restraint", "reasonable_force"):
            if not iv.technique:
                _missing(problems, f"{at}/technique")
            mapped = look.technique_attrs.get(iv.technique or "", {}).get("position")
            if iv.position is None and mapped is None:
                _missing(problems, f"{at}/position")
        if code == "seclusion" and iv.supervised_throughout is None:
            _missing(problems, f"{at}/supervised_throughout")
        if iv.purpose is None:
            _missing(problems, f"{at}/purpose")
        if iv.started_at is None:
            _missing(problems, f"{at}/started_at")
        if iv.ended_at is None:
            _missing(problems, f"{at}/ended_at")
        for key, when in (("started_at", iv.started_at), ("ended_at", iv.ended_at)):
            if when is None:
                continue
            if when > now:
                problems.append({"pointer": f"{at}/{key}", "detail": "is in the future"})
            elif (start is not None and when < start) or (end is not None and when > end):
                problems.append(
                    {
                        "pointer": f"{at}/{key}",
                        "detail": "is outside the incident (occurred_at to ended_at)",
                    }
                )
        if iv.started_at and iv.ended_at and iv.ended_at < iv.started_at:
            problems.append({"pointer": f"{at}/ended_at", "detail": "is before started_at"})
        if not iv.staff:
            _missing(problems, f"{at}/staff")
        for k, ref in enumerate(iv.staff or []):
            if look.school_ok and ref not in look.staff:
                problems.append(
                    {
                        "pointer": f"{at}/staff/{k}",
                        "detail": "no such member of staff at the school",
                    }
                )


def _check_decision_test(body: IncidentCreate, problems: list[Problem]) -> None:
    test = body.decision_test
    if test is None:
        _missing(problems, "/decision_test")
        return
    for limb in ATTESTATIONS:
        att = getattr(test, limb)
        if att is None:
            _missing(problems, f"/decision_test/{limb}")
            continue
        if att.attested is None:
            _missing(problems, f"/decision_test/{limb}/attested")
        if not att.reason:
            _missing(problems, f"/decision_test/{limb}/reason")


def _check_welfare_aftercare(body: IncidentCreate, problems: list[Problem]) -> None:
    if body.welfare is None:
        _missing(problems, "/welfare")
    else:
        if not body.welfare.monitoring:
            _missing(problems, "/welfare/monitoring")
        if body.welfare.medical_check is None:
            _missing(problems, "/welfare/medical_check")
    if body.aftercare is None:
        _missing(problems, "/aftercare")
    else:
        for name in ("pupil_debrief", "staff_debrief", "support_offered"):
            if not getattr(body.aftercare, name):
                _missing(problems, f"/aftercare/{name}")


def _check_injuries(body: IncidentCreate, look: Lookup, problems: list[Problem]) -> None:
    if body.injuries is None:
        problems.append(
            {"pointer": "/injuries", "detail": "is required for submission ([] for none)"}
        )
        return
    for n, inj in enumerate(body.injuries):
        at = f"/injuries/{n}"
        if inj.person is None:
            _missing(problems, f"{at}/person")
        if not inj.description:
            _missing(problems, f"{at}/description")
        if not inj.treatment:
            _missing(problems, f"{at}/treatment")
        if inj.riddor_reportable is None:
            _missing(problems, f"{at}/riddor_reportable")
        if inj.person == "staff":
            if not inj.staff_ref:
                _missing(problems, f"{at}/staff_ref")
            elif look.school_ok and inj.staff_ref not in look.staff:
                problems.append(
                    {
                        "pointer": f"{at}/staff_ref",
                        "detail": "no such member of staff at the school",
                    }
                )


def _check_parent_report(body: IncidentCreate, now: datetime, problems: list[Problem]) -> None:
    pr = body.parent_report
    if pr is None:
        return
    if pr.already_told_in_writing:
        if pr.told_at is None:
            _missing(problems, "/parent_report/told_at")
        elif pr.told_at > now:
            problems.append({"pointer": "/parent_report/told_at", "detail": "is in the future"})
        elif body.occurred_at is not None and pr.told_at < body.occurred_at:
            problems.append(
                {"pointer": "/parent_report/told_at", "detail": "is before the incident"}
            )
        if not pr.told_by:
            _missing(problems, "/parent_report/told_by")
    if pr.safeguarding_hold and not pr.hold_reason:
        _missing(problems, "/parent_report/hold_reason")


def canonical_sections(
    body: IncidentCreate, look: Lookup, training: dict[str, bool | None]
) -> dict[str, Any]:
    """The stored sections: each label kept beside its canonical term, durations derived.

    ``training`` says, per intervention index and staff ref (``"0:STF-1"``), whether that
    member of staff held in-date training for the technique used.
    """
    interventions = []
    for n, iv in enumerate(body.interventions or []):
        assert iv.type and iv.started_at and iv.ended_at
        attrs = look.technique_attrs.get(iv.technique or "", {})
        interventions.append(
            {
                "type_label": iv.type,
                "type": look.types[iv.type],
                "technique_label": iv.technique,
                "technique": look.techniques.get(iv.technique) if iv.technique else None,
                # The recorder's word first; else what the provider's hold name implies.
                "position": iv.position or attrs.get("position"),
                "technique_staff_count": attrs.get("staff_count"),
                "purpose": iv.purpose,
                "started_at": iv.started_at.isoformat(),
                "ended_at": iv.ended_at.isoformat(),
                "duration_minutes": duration_minutes(iv.started_at, iv.ended_at),
                "staff": [
                    {
                        "staff_ref": ref,
                        "name": look.staff.get(ref, ref),
                        "training_in_date": training.get(f"{n}:{ref}"),
                    }
                    for ref in iv.staff or []
                ],
                "supervised_throughout": iv.supervised_throughout,
            }
        )
    alt = body.alternatives
    labels = (alt.strategies if alt else None) or []
    strategies = [{"label": s, "code": look.strategies.get(s)} for s in labels]

    def dump(model: Any) -> Any:
        """A section as JSON, or None."""
        return None if model is None else model.model_dump(mode="json")

    return {
        "planned": body.planned,
        "location": body.location,
        "activity": body.activity,
        "antecedents": body.antecedents,
        "triggers": body.triggers,
        "risk": dump(body.risk),
        "alternatives": dump(alt),
        "strategies": strategies,
        "interventions": interventions,
        "decision_test": dump(body.decision_test),
        "welfare": dump(body.welfare),
        "injuries": [i.model_dump(mode="json") for i in body.injuries or []],
        "aftercare": dump(body.aftercare),
        "parent_report": dump(body.parent_report),
    }
