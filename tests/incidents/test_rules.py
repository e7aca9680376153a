"""The trust's rules, table-driven, without I/O."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from services.incidents.rules import DEFAULT_SETTINGS, Facts, Training, evaluate, highest

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
DAY = date(2026, 11, 27)
TRAINED = Training(
    frozenset({"single_elbow", "guide", "prone_hold"}), date(2025, 9, 1), date(2028, 8, 31)
)
LAPSED = Training(frozenset({"single_elbow", "guide"}), date(2023, 9, 1), date(2026, 6, 30))
ATTESTED = {"attested": True, "reason": "because"}


def iv(**kw: Any) -> dict[str, Any]:
    base = {
        "type": "physical_restraint",
        "technique": "single_elbow",
        "position": "standing",
        "purpose": "prevent_injury",
        "duration_minutes": 2,
        "staff": [{"staff_ref": "S1", "name": "A"}],
        "supervised_throughout": None,
    }
    return {**base, **kw}


def facts(
    interventions: list[dict[str, Any]] | None = None,
    *,
    decision: dict[str, Any] | None = None,
    planned: bool = False,
    age: int | None = 10,
    plan: list[str] | None = None,
    training: dict[str, list[Training]] | None = None,
    recorded_after: timedelta = timedelta(hours=1),
    settings: dict[str, Any] | None = None,
    historic: bool = False,
) -> Facts:
    test = (
        decision
        if decision is not None
        else {k: ATTESTED for k in ("necessity", "proportionality", "shortest_time", "welfare")}
    )
    recorded = T0 + recorded_after
    return Facts(
        record={
            "planned": planned,
            "interventions": interventions if interventions is not None else [iv()],
            "decision_test": test,
        },
        incident_local_date=DAY,
        recorded_local_date=recorded.date(),
        occurred_at=T0,
        ended_at=T0 + timedelta(minutes=5),
        recorded_at=recorded,
        pupil_age=age,
        handling_plan=plan,
        training=training if training is not None else {"S1": [TRAINED]},
        settings={**DEFAULT_SETTINGS, **(settings or {})},
        historic=historic,
    )


CASES: list[tuple[str, Facts, set[str]]] = [
    ("clean record", facts(), set()),
    (
        "chemical restraint",
        facts([iv(type="chemical_restraint", technique=None)]),
        {"prohibited_practice"},
    ),
    (
        "basket hold restricts breathing",
        facts([iv(technique="basket_hold")]),
        {"prohibited_practice", "staff_training_not_in_date"},
    ),
    (
        "neck pressure",
        facts([iv(technique="neck_pressure")]),
        {"prohibited_practice", "staff_training_not_in_date"},
    ),
    (
        "prone hold prohibited by trust default",
        facts([iv(technique="prone_hold", position="ground_prone")]),
        {"prohibited_practice"},
    ),
    (
        "prone allowed when trust permits it",
        facts(
            [iv(technique="prone_hold", position="ground_prone")],
            settings={"prohibited_techniques": []},
        ),
        set(),
    ),
    ("force as punishment", facts([iv(purpose="punishment")]), {"prohibited_practice"}),
    ("force for compliance", facts([iv(purpose="compliance")]), {"prohibited_practice"}),
    (
        "decision test not attested",
        facts(
            decision={
                "necessity": ATTESTED,
                "proportionality": {"attested": False, "reason": "x"},
                "shortest_time": ATTESTED,
                "welfare": ATTESTED,
            }
        ),
        {"decision_test_not_attested"},
    ),
    (
        "decision test reason missing",
        facts(
            decision={
                "necessity": {"attested": True, "reason": ""},
                "proportionality": ATTESTED,
                "shortest_time": ATTESTED,
                "welfare": ATTESTED,
            }
        ),
        {"decision_test_not_attested"},
    ),
    (
        "ground restraint over limit",
        facts([iv(position="ground_supine", duration_minutes=4)]),
        {"ground_restraint_over_limit"},
    ),
    (
        "ground restraint at the limit",
        facts([iv(position="ground_supine", duration_minutes=3)]),
        set(),
    ),
    (
        "school limit of one minute",
        facts(
            [iv(position="ground_supine", duration_minutes=2)],
            settings={"ground_restraint_limit_minutes": 1},
        ),
        {"ground_restraint_over_limit"},
    ),
    ("standing hold may be long", facts([iv(duration_minutes=12)]), set()),
    (
        "seclusion unsupervised",
        facts([iv(type="seclusion", technique=None, position=None, supervised_throughout=False)]),
        {"seclusion_unsupervised"},
    ),
    (
        "seclusion supervised",
        facts([iv(type="seclusion", technique=None, position=None, supervised_throughout=True)]),
        set(),
    ),
    ("staff training lapsed", facts(training={"S1": [LAPSED]}), {"staff_training_not_in_date"}),
    ("staff never trained", facts(training={}), {"staff_training_not_in_date"}),
    (
        "trained, but not in this technique",
        facts([iv(technique="wrap")]),
        {"staff_training_not_in_date"},
    ),
    ("two-person hold by one", facts([iv(technique_staff_count=2)]), {"technique_staff_count"}),
    (
        "two-person hold by two",
        facts([iv(technique_staff_count=2, staff=[{"staff_ref": "S1"}, {"staff_ref": "S1"}])]),
        set(),
    ),
    ("technique outside handling plan", facts(plan=["guide"]), {"technique_outside_handling_plan"}),
    ("technique inside handling plan", facts(plan=["single_elbow"]), set()),
    ("planned without a plan", facts(planned=True), {"planned_without_handling_plan"}),
    ("recorded the next day", facts(recorded_after=timedelta(hours=15)), {"recorded_late"}),
    (
        "recorded past the trust limit",
        facts(recorded_after=timedelta(hours=3), settings={"record_deadline_hours": 2}),
        {"recorded_late"},
    ),
    (
        "historic records are never late",
        facts(recorded_after=timedelta(days=30), historic=True),
        set(),
    ),
    ("pupil aged 20", facts(age=20), {"pupil_aged_20_plus"}),
    ("pupil aged 19", facts(age=19), set()),
]


@pytest.mark.parametrize(("name", "given", "expected"), CASES, ids=[c[0] for c in CASES])
def test_rule_table(name: str, given: Facts, expected: set[str]) -> None:
    assert {f["code"] for f in evaluate(given)} == expected


def test_severity_and_pointers() -> None:
    flags = evaluate(facts([iv(), iv(technique="basket_hold")], age=21))
    prohibited = [f for f in flags if f["code"] == "prohibited_practice"]
    assert prohibited[0]["pointer"] == "/interventions/1/technique"
    assert prohibited[0]["severity"] == "serious"
    assert highest(flags) == "serious"
    assert highest([f for f in flags if f["code"] == "pupil_aged_20_plus"]) == "info"
    assert highest([]) is None
