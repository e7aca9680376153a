"""The trust's rules over a record: pure functions, no I/O, each returning flags.

Rules never refuse a record: a record is evidence, so whatever it describes is stored
and the rules' findings are stored beside it and emitted as ``practice.flagged.v1``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from services.incidents.vocabulary import (
    ALWAYS_PROHIBITED_TECHNIQUES,
    DEFAULT_PROHIBITED_TECHNIQUES,
    GROUND_POSITIONS,
    PROHIBITED_PURPOSES,
)

SEVERITY_ORDER = {"info": 0, "warning": 1, "serious": 2}

DEFAULT_SETTINGS: dict[str, Any] = {
    "ground_restraint_limit_minutes": 3,
    "record_deadline_hours": 24,
    "prohibited_techniques": list(DEFAULT_PROHIBITED_TECHNIQUES),
    "prohibited_positions": [],
    "suppression_threshold": 4,  # counts 1 to 4 are withheld from governors
}


@dataclass(frozen=True)
class Training:
    """One training record of a member of staff."""

    techniques: frozenset[str]
    completed_date: date
    expiry_date: date


@dataclass
class Facts:
    """Everything the rules look at, gathered by the service beforehand."""

    record: dict[str, Any]  # the canonical sections, as ``record.canonical_sections`` gives
    incident_local_date: date
    recorded_local_date: date
    occurred_at: datetime
    ended_at: datetime | None
    recorded_at: datetime
    pupil_age: int | None
    handling_plan: list[str] | None  # permitted techniques; None when no plan is on file
    training: dict[str, list[Training]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SETTINGS))
    historic: bool = False


Flag = dict[str, Any]


def _flag(code: str, severity: str, detail: str, pointer: str | None = None) -> Flag:
    return {"code": code, "severity": severity, "detail": detail, "pointer": pointer}


def prohibited_practice(f: Facts) -> list[Flag]:
    """Prohibited or unsafe practices (DOMAIN §4, plus the trust's own list)."""
    out = []
    banned = ALWAYS_PROHIBITED_TECHNIQUES | set(f.settings.get("prohibited_techniques", []))
    banned_positions = set(f.settings.get("prohibited_positions", []))
    for n, iv in enumerate(f.record.get("interventions") or []):
        at = f"/interventions/{n}"
        if iv.get("type") == "chemical_restraint":
            out.append(_flag("prohibited_practice", "serious", "chemical restraint", f"{at}/type"))
        if iv.get("technique") in banned:
            out.append(
                _flag(
                    "prohibited_practice",
                    "serious",
                    f"prohibited technique: {iv['technique']}",
                    f"{at}/technique",
                )
            )
        if iv.get("position") in banned_positions:
            out.append(
                _flag(
                    "prohibited_practice",
                    "serious",
                    f"prohibited position: {iv['position']}",
                    f"{at}/position",
                )
            )
        if iv.get("purpose") in PROHIBITED_PURPOSES:
            out.append(
                _flag(
                    "prohibited_practice",
                    "serious",
                    f"force used for {iv['purpose']}",
                    f"{at}/purpose",
                )
            )
    return out


def decision_test_attested(f: Facts) -> list[Flag]:
    """Each limb of the decision test attested, with a reason."""
    test = f.record.get("decision_test") or {}
    out = []
    for limb in ("necessity", "proportionality", "shortest_time", "welfare"):
        att = test.get(limb) or {}
        if att.get("attested") is not True or not att.get("reason"):
            out.append(
                _flag(
                    "decision_test_not_attested",
                    "warning",
                    f"{limb} not attested with a reason",
                    f"/decision_test/{limb}",
                )
            )
    return out


def ground_restraint_over_limit(f: Facts) -> list[Flag]:
    """A ground hold longer than the trust's limit."""
    limit = int(f.settings.get("ground_restraint_limit_minutes", 3))
    out = []
    for n, iv in enumerate(f.record.get("interventions") or []):
        if iv.get("position") in GROUND_POSITIONS and iv.get("duration_minutes", 0) > limit:
            out.append(
                _flag(
                    "ground_restraint_over_limit",
                    "serious",
                    f"ground restraint of {iv['duration_minutes']} minutes (limit {limit})",
                    f"/interventions/{n}",
                )
            )
    return out


def seclusion_unsupervised(f: Facts) -> list[Flag]:
    """Seclusion must be supervised throughout."""
    return [
        _flag(
            "seclusion_unsupervised",
            "serious",
            "seclusion without continuous supervision",
            f"/interventions/{n}/supervised_throughout",
        )
        for n, iv in enumerate(f.record.get("interventions") or [])
        if iv.get("type") == "seclusion" and iv.get("supervised_throughout") is False
    ]


def in_date(training: list[Training], technique: str | None, on: date) -> bool:
    """Whether any training covers ``technique`` (any, when none is named) on ``on``."""
    return any(
        t.completed_date <= on <= t.expiry_date and (technique is None or technique in t.techniques)
        for t in training
    )


def staff_training(f: Facts) -> list[Flag]:
    """Every member of staff involved holds in-date training for the technique used."""
    out = []
    for n, iv in enumerate(f.record.get("interventions") or []):
        if iv.get("type") == "supportive_contact":
            continue
        for k, st in enumerate(iv.get("staff") or []):
            held = f.training.get(st["staff_ref"], [])
            if not in_date(held, iv.get("technique"), f.incident_local_date):
                out.append(
                    _flag(
                        "staff_training_not_in_date",
                        "warning",
                        "no in-date training for "
                        + (iv.get("technique") or "restrictive intervention"),
                        f"/interventions/{n}/staff/{k}",
                    )
                )
    return out


def technique_staff_count(f: Facts) -> list[Flag]:
    """Fewer staff than the hold takes (as the provider's mapping says)."""
    out = []
    for n, iv in enumerate(f.record.get("interventions") or []):
        needed = iv.get("technique_staff_count")
        staff = len(iv.get("staff") or [])
        if needed and staff < needed:
            out.append(
                _flag(
                    "technique_staff_count",
                    "warning",
                    f"{iv.get('technique')} takes {needed} staff; {staff} recorded",
                    f"/interventions/{n}/staff",
                )
            )
    return out


def handling_plan(f: Facts) -> list[Flag]:
    """A technique outside the pupil's handling plan, or a 'planned' one with no plan."""
    out = []
    if f.record.get("planned") and f.handling_plan is None:
        out.append(
            _flag(
                "planned_without_handling_plan",
                "warning",
                "recorded as planned but no handling plan is on file",
                "/planned",
            )
        )
    if f.handling_plan is None:
        return out
    for n, iv in enumerate(f.record.get("interventions") or []):
        tech = iv.get("technique")
        if tech and tech not in f.handling_plan:
            out.append(
                _flag(
                    "technique_outside_handling_plan",
                    "warning",
                    f"{tech} is not in the pupil's handling plan",
                    f"/interventions/{n}/technique",
                )
            )
    return out


def recorded_late(f: Facts) -> list[Flag]:
    """Recorded after the school-local day of the incident, or past the trust's limit."""
    if f.historic:
        return []
    hours = int(f.settings.get("record_deadline_hours", 24))
    base = f.ended_at or f.occurred_at
    reasons = []
    if f.recorded_local_date > f.incident_local_date:
        reasons.append("after the day of the incident")
    if f.recorded_at - base > timedelta(hours=hours):
        reasons.append(f"more than {hours} hours after it")
    if not reasons:
        return []
    return [_flag("recorded_late", "warning", "recorded " + " and ".join(reasons))]


def pupil_aged_20_plus(f: Facts) -> list[Flag]:
    """No parent report is required for a pupil aged 20 or over."""
    if f.pupil_age is not None and f.pupil_age >= 20:
        return [_flag("pupil_aged_20_plus", "info", "pupil aged 20 or over: no parent report")]
    return []


RULES: tuple[Callable[[Facts], list[Flag]], ...] = (
    prohibited_practice,
    decision_test_attested,
    ground_restraint_over_limit,
    seclusion_unsupervised,
    staff_training,
    technique_staff_count,
    handling_plan,
    recorded_late,
    pupil_aged_20_plus,
)


def evaluate(facts: Facts) -> list[Flag]:
    """Every rule's flags for one record, in rule order."""
    return [flag for rule in RULES for flag in rule(facts)]


def highest(flags: list[Flag]) -> str | None:
    """The most severe severity among ``flags``."""
    if not flags:
        return None
    return max((f["severity"] for f in flags), key=SEVERITY_ORDER.__getitem__)
