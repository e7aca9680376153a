"""Property: any record the service accepts reads back identical, in every field it was given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.incidents.helpers import make_incident
from tests.support.fixtures import auth

pytestmark = pytest.mark.usefixtures("seeded")

WORD = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp", "Cf")),
    min_size=1,
    max_size=12,
)
TEXT = st.lists(WORD, min_size=1, max_size=6).map(" ".join)
NOON = datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
LIMBS = ("necessity", "proportionality", "shortest_time", "welfare")


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    start = NOON - timedelta(minutes=draw(st.integers(60, 60 * 24 * 30)))
    length = draw(st.integers(1, 40))
    end = start + timedelta(minutes=length)
    iv_start = start + timedelta(minutes=draw(st.integers(0, length - 1)))
    iv_end = iv_start + timedelta(
        minutes=draw(st.integers(0, int((end - iv_start).total_seconds() // 60)))
    )
    kind = draw(st.sampled_from(["seclusion", "physical_restraint", "time out", "restraint"]))
    holds = kind in ("physical_restraint", "restraint")
    intervention = {
        "type": kind,
        "technique": draw(st.sampled_from(["single_elbow", "Team Teach double elbow", "guide"]))
        if holds
        else None,
        "position": draw(st.sampled_from(["standing", "seated", "ground_supine"]))
        if holds
        else None,
        "purpose": draw(st.sampled_from(["prevent_injury", "prevent_damage", "punishment"])),
        "started_at": iv_start.isoformat(),
        "ended_at": iv_end.isoformat(),
        "staff": draw(
            st.lists(
                st.sampled_from(["STF-1001", "STF-1002", "STF-1003"]),
                min_size=1,
                max_size=3,
                unique=True,
            )
        ),
        "supervised_throughout": draw(st.booleans()) if not holds else None,
    }
    injuries = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "person": st.just("pupil"),
                    "staff_ref": st.none(),
                    "description": TEXT,
                    "treatment": TEXT,
                    "riddor_reportable": st.booleans(),
                }
            ),
            max_size=2,
        )
    )
    return make_incident(
        occurred_at=start.isoformat(),
        ended_at=end.isoformat(),
        intervention_type=kind,
        summary=draw(TEXT),
        planned=draw(st.booleans()),
        location=draw(TEXT),
        activity=draw(st.none() | TEXT),
        antecedents=draw(TEXT),
        triggers=draw(TEXT),
        risk={
            "presented": draw(TEXT),
            "to": draw(
                st.lists(
                    st.sampled_from(["self", "pupils", "staff", "property"]),
                    min_size=1,
                    unique=True,
                )
            ),
            "severity": draw(st.sampled_from(["low", "medium", "high"])),
        },
        interventions=[intervention],
        decision_test={
            limb: {"attested": draw(st.booleans()), "reason": draw(TEXT)} for limb in LIMBS
        },
        welfare={
            "monitoring": draw(TEXT),
            "medical_check": draw(st.booleans()),
            "medical_check_by": draw(st.none() | TEXT),
        },
        injuries=injuries,
        aftercare={
            name: draw(TEXT) for name in ("pupil_debrief", "staff_debrief", "support_offered")
        },
    )


def examples(n: int) -> list[dict[str, Any]]:
    """``n`` records drawn by hypothesis (the HTTP round trip below is async)."""
    drawn: list[dict[str, Any]] = []

    @settings(max_examples=n, database=None, deadline=None)
    @given(records())
    def collect(record: dict[str, Any]) -> None:
        drawn.append(record)

    collect()
    return drawn


async def test_any_accepted_record_reads_back_identical(clients, token) -> None:
    headers = auth(token("recorder", schools=["100001"]))
    for body in examples(30):
        r = await clients["incidents"].post("/v1/incidents", json=body, headers=headers)
        assert r.status_code == 201, (body, r.text)
        created = r.json()
        got = await clients["incidents"].get(
            f"/v1/incidents/{created['incident_id']}", headers=headers
        )
        assert got.json() == created
        for key in ("summary", "planned", "location", "activity", "antecedents", "triggers"):
            assert created[key] == body[key]
        for key in ("risk", "decision_test", "welfare", "aftercare", "injuries"):
            assert created[key] == body[key]
        iv, given_iv = created["interventions"][0], body["interventions"][0]
        assert iv["type_label"] == given_iv["type"] and iv["position"] == given_iv["position"]
        assert datetime.fromisoformat(iv["started_at"]) == datetime.fromisoformat(
            given_iv["started_at"]
        )
        assert [s["staff_ref"] for s in iv["staff"]] == given_iv["staff"]
        rev = await clients["incidents"].get(
            f"/v1/incidents/{created['incident_id']}/revisions/1", headers=headers
        )
        assert rev.json()["incident"] == created
