"""The full record: completeness, consistency, canonical terms, drafts, flags."""

from __future__ import annotations

import pytest

from tests.incidents.helpers import intervention, make_incident, outbox_payloads, outbox_types
from tests.support.fixtures import auth

pytestmark = pytest.mark.usefixtures("seeded")


async def test_complete_record_reads_back_with_every_section(clients, token, seeded) -> None:
    body = make_incident()
    r = await clients["incidents"].post("/v1/incidents", json=body, headers=auth(token("recorder")))
    assert r.status_code == 201, r.text
    created = r.json()
    got = await clients["incidents"].get(
        f"/v1/incidents/{created['incident_id']}", headers=auth(token("recorder"))
    )
    assert got.status_code == 200 and got.headers["etag"] == '"1"'
    rec = got.json()
    assert rec == created
    assert rec["location"] == body["location"] and rec["planned"] is False
    assert rec["risk"] == body["risk"]
    assert rec["decision_test"] == body["decision_test"]
    assert rec["aftercare"] == body["aftercare"]
    assert rec["injuries"] == []
    iv = rec["interventions"][0]
    assert (iv["type_label"], iv["type"]) == ("time out", "seclusion")
    assert (iv["technique_label"], iv["technique"]) == ("escort", "guide")
    assert iv["duration_minutes"] == 7
    assert iv["staff"] == [
        {"staff_ref": "STF-1001", "name": "Ms Priya Shah", "training_in_date": True}
    ]
    assert [s["code"] for s in rec["strategies"]] == ["verbal_reassurance", "calm_space"]
    assert rec["people"]["staff"] == [
        {"staff_ref": "STF-1001", "name": "Ms Priya Shah", "training_in_date": None}
    ]
    assert rec["people"]["pupil_legal_name"]
    assert rec["flags"] == []
    payload = (
        await outbox_payloads(seeded["incidents"], "incident.submitted.v1", rec["incident_id"])
    )[0]
    assert payload["record"]["interventions"][0]["duration_minutes"] == 7
    assert payload["report"]["location"] == "Year 4 corridor"
    assert payload["parent_report"] == {
        "required": True,
        "already_told_in_writing": False,
        "told_at": None,
        "told_how": None,
        "told_by": None,
        "told_in_writing": [],
        "safeguarding_hold": False,
        "hold_reason": None,
    }
    assert "Priya" not in str(payload)  # staff names never leave in events


async def test_incomplete_submission_names_every_missing_field(clients, token) -> None:
    body = {
        "school_urn": "100001",
        "pupil_ref": "DEMO-0001",
        "occurred_at": "2026-11-27T10:05:00+00:00",
        "intervention_type": "restraint",
        "summary": "Held.",
        "interventions": [{"type": "restraint", "staff": ["STF-1001"]}],
        "decision_test": {"necessity": {"attested": True}},
    }
    r = await clients["incidents"].post("/v1/incidents", json=body, headers=auth(token("recorder")))
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    pointers = {e["pointer"] for e in r.json()["errors"]}
    assert {
        "/ended_at",
        "/planned",
        "/location",
        "/antecedents",
        "/triggers",
        "/risk",
        "/alternatives",
        "/interventions/0/technique",
        "/interventions/0/position",
        "/interventions/0/purpose",
        "/interventions/0/started_at",
        "/interventions/0/ended_at",
        "/decision_test/necessity/reason",
        "/decision_test/proportionality",
        "/decision_test/shortest_time",
        "/decision_test/welfare",
        "/welfare",
        "/injuries",
        "/aftercare",
    } <= pointers
    assert "/school_urn" not in pointers and "/pupil_ref" not in pointers


async def test_inconsistent_times_and_unknown_staff_all_reported(clients, token) -> None:
    body = make_incident(
        interventions=[
            intervention(started_at="2026-11-27T09:00:00+00:00", staff=["STF-1001", "NOBODY"]),
            intervention(
                started_at="2026-11-27T10:10:00+00:00", ended_at="2026-11-27T10:08:00+00:00"
            ),
            intervention(ended_at="2026-11-28T10:00:00+00:00"),
        ],
        injuries=[
            {
                "person": "staff",
                "staff_ref": "STF-2001",
                "description": "scratch",
                "treatment": "none",
                "riddor_reportable": False,
            }
        ],
    )
    r = await clients["incidents"].post("/v1/incidents", json=body, headers=auth(token("recorder")))
    assert r.status_code == 422
    errors = {e["pointer"]: e["detail"] for e in r.json()["errors"]}
    assert "outside the incident" in errors["/interventions/0/started_at"]
    assert "no such member of staff" in errors["/interventions/0/staff/1"]
    assert errors["/interventions/1/ended_at"] == "is before started_at"
    assert errors["/interventions/2/ended_at"] == "is in the future"
    assert "no such member of staff" in errors["/injuries/0/staff_ref"]  # another school's


async def test_durations_are_derived_never_typed(clients, token) -> None:
    body = make_incident(interventions=[intervention(duration_minutes=7)])
    r = await clients["incidents"].post("/v1/incidents", json=body, headers=auth(token("recorder")))
    assert r.status_code == 422
    assert "/interventions/0/duration_minutes" in {e["pointer"] for e in r.json()["errors"]}


async def test_prohibited_practice_is_stored_flagged_and_emitted(clients, token, seeded) -> None:
    body = make_incident(
        intervention_type="restraint",
        interventions=[
            intervention(
                type="restraint",
                technique="prone_hold",
                position="ground_prone",
                purpose="compliance",
                started_at="2026-11-27T10:05:00+00:00",
                ended_at="2026-11-27T10:11:00+00:00",
                supervised_throughout=None,
            )
        ],
    )
    r = await clients["incidents"].post("/v1/incidents", json=body, headers=auth(token("recorder")))
    assert r.status_code == 201, r.text
    rec = r.json()
    codes = {f["code"] for f in rec["flags"]}
    assert {
        "prohibited_practice",
        "ground_restraint_over_limit",
        "staff_training_not_in_date",
        "technique_outside_handling_plan",
    } <= codes
    flagged = await outbox_payloads(seeded["incidents"], "practice.flagged.v1", rec["incident_id"])
    assert len(flagged) == 1 and flagged[0]["severity"] == "serious"
    assert {f["code"] for f in flagged[0]["flags"]} == codes
    listed = await clients["incidents"].get(
        "/v1/incidents", params={"flag": "prohibited_practice"}, headers=auth(token("trust_lead"))
    )
    assert [i["incident_id"] for i in listed.json()["items"]] == [rec["incident_id"]]


async def test_parent_report_section_reaches_the_event(clients, token, seeded) -> None:
    body = make_incident(
        parent_report={
            "already_told_in_writing": True,
            "told_at": "2026-11-27T15:00:00+00:00",
            "told_by": "Class teacher",
            "safeguarding_hold": True,
        }
    )
    r = await clients["incidents"].post("/v1/incidents", json=body, headers=auth(token("recorder")))
    assert r.status_code == 422
    errors = {e["pointer"]: e["detail"] for e in r.json()["errors"]}
    assert errors == {
        "/parent_report/told_at": "is in the future",
        "/parent_report/hold_reason": "is required for submission",
    }
    body["parent_report"].update(told_at="2026-11-27T12:00:00+00:00", hold_reason="DSL to decide")
    r = await clients["incidents"].post("/v1/incidents", json=body, headers=auth(token("recorder")))
    assert r.status_code == 201, r.text
    payload = (
        await outbox_payloads(seeded["incidents"], "incident.submitted.v1", r.json()["incident_id"])
    )[0]
    assert payload["parent_report"]["already_told_in_writing"] is True
    assert payload["parent_report"]["safeguarding_hold"] is True


async def test_draft_then_submit(clients, token, seeded) -> None:
    headers = auth(token("recorder"))
    partial = {
        "status": "draft",
        "school_urn": "100001",
        "pupil_ref": "DEMO-0001",
        "summary": "Started",
    }
    r = await clients["incidents"].post("/v1/incidents", json=partial, headers=headers)
    assert r.status_code == 201, r.text
    draft = r.json()
    assert draft["status"] == "draft"
    assert "/interventions" in {p["pointer"] for p in draft["problems"]}
    iid = draft["incident_id"]
    assert (await clients["incidents"].get(f"/v1/incidents/{iid}", headers=headers)).json()[
        "status"
    ] == "draft"
    refused = await clients["incidents"].post(f"/v1/incidents/{iid}/submit", headers=headers)
    assert refused.status_code == 422
    assert "/occurred_at" in {e["pointer"] for e in refused.json()["errors"]}
    assert await outbox_types(seeded["incidents"], iid) == []  # nothing leaves for a draft
    listed = await clients["incidents"].get("/v1/incidents/drafts", headers=headers)
    assert [d["incident_id"] for d in listed.json()["items"]] == [iid]
    elsewhere = auth(token("recorder", schools=["100002"]))
    listed = await clients["incidents"].get("/v1/incidents/drafts", headers=elsewhere)
    assert listed.json()["items"] == []

    full = make_incident(status="draft")
    r = await clients["incidents"].put(f"/v1/incidents/{iid}/draft", json=full, headers=headers)
    assert r.status_code == 200 and r.json()["problems"] == []
    done = await clients["incidents"].post(f"/v1/incidents/{iid}/submit", headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["incident_id"] == iid and done.json()["status"] == "submitted"
    assert await outbox_types(seeded["incidents"], iid) == ["incident.submitted.v1"]
    # Submitted already: the record exists, so not 404 but a conflict with its state.
    again = await clients["incidents"].post(f"/v1/incidents/{iid}/submit", headers=headers)
    assert again.status_code == 409 and again.json()["status"] == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_same_incident_in_school_dialects_is_one_canonical_record(clients, token) -> None:
    lead = auth(token("trust_lead"))
    r = await clients["incidents"].post(
        "/v1/incidents",
        json=make_incident(
            intervention_type="seclusion",
            interventions=[intervention(type="seclusion", technique="guide")],
            alternatives={
                "strategies": ["verbal_reassurance", "calm_space"],
                "why_insufficient": "x",
            },
        ),
        headers=lead,
    )
    s = await clients["incidents"].post(
        "/v1/incidents",
        json=make_incident(
            intervention_type="Time-Out Room",
            interventions=[intervention(type="isolation room", technique="Caring C")],
            alternatives={"strategies": ["Reassurance", "time to calm"], "why_insufficient": "x"},
        ),
        headers=lead,
    )
    assert r.status_code == s.status_code == 201, s.text
    a, b = r.json(), s.json()
    assert a["intervention_type"] == b["intervention_type"] == "seclusion"
    assert [i["type"] for i in a["interventions"]] == [i["type"] for i in b["interventions"]]
    assert [i["technique"] for i in a["interventions"]] == [
        i["technique"] for i in b["interventions"]
    ]
    assert [x["code"] for x in a["strategies"]] == [x["code"] for x in b["strategies"]]
    assert b["interventions"][0]["type_label"] == "isolation room"  # the label is kept


async def test_malformed_and_missing_fields_in_one_answer(clients, token) -> None:
    body = {
        "school_urn": "100001",
        "pupil_ref": "DEMO-0001",
        "occurred_at": "yesterday after lunch",
        "intervention_type": "restraint",
        "summary": "Held.",
        "risk": {"presented": "x", "to": ["everyone"], "severity": "high"},
        "duration_minutes": 4,
    }
    r = await clients["incidents"].post("/v1/incidents", json=body, headers=auth(token("recorder")))
    assert r.status_code == 422
    errors = r.json()["errors"]
    pointers = [e["pointer"] for e in errors]
    assert {"/occurred_at", "/risk/to/0", "/duration_minutes"} <= set(pointers)  # malformed
    assert {"/ended_at", "/interventions", "/decision_test", "/aftercare"} <= set(
        pointers
    )  # missing
    assert "/risk" not in pointers  # set aside as malformed, not reported missing as well
    assert pointers.count("/occurred_at") == 1
    draft = await clients["incidents"].post(
        "/v1/incidents", json={**body, "status": "draft"}, headers=auth(token("recorder"))
    )
    assert draft.status_code == 422
    assert "/ended_at" not in {e["pointer"] for e in draft.json()["errors"]}
    broken = await clients["incidents"].post(
        "/v1/incidents",
        content=b"{not json",
        headers={**auth(token("recorder")), "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
