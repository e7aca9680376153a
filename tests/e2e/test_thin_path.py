"""The thin path: an incident submitted becomes an event, a parent report, and a count."""

from __future__ import annotations

import email
from email import policy

import pytest

from services.incidents.schemas import EXAMPLE_INCIDENT
from tests.support.fixtures import auth

pytestmark = pytest.mark.usefixtures("seeded")


def openapi_example(spec: dict) -> dict:
    post = spec["paths"]["/v1/incidents"]["post"]
    return post["requestBody"]["content"]["application/json"]["examples"]["complete"]["value"]


async def test_openapi_example_submits_sends_and_counts(clients, token, embedded) -> None:
    await embedded.pump()  # the demo history: reaches reporting, sends nothing
    assert embedded.messages() == []
    lead = auth(token("trust_lead"))
    before = (await clients["reporting"].get("/v1/trusts/TR00001/summary", headers=lead)).json()

    spec = (await clients["incidents"].get("/openapi.json")).json()
    example = openapi_example(spec)
    assert example == EXAMPLE_INCIDENT
    r = await clients["incidents"].post(
        "/v1/incidents", json=example, headers=auth(token("recorder"))
    )
    assert r.status_code == 201, r.text
    incident = r.json()
    assert incident["intervention_type"] == "seclusion"  # "time out" is seclusion
    assert incident["intervention_label"] == "time out"
    assert incident["duration_minutes"] == 7

    published = await embedded.pump()
    assert published >= 3  # incident.submitted, then parent_report.sent per parent

    files = embedded.messages()
    emails = [f for f in files if f.suffix == ".eml"]
    sms = [f for f in files if f.suffix == ".txt"]
    assert emails and sms
    for f in files:
        stamp, channel, message_id = f.stem.split("-", 2)
        assert stamp.endswith("Z") and channel in ("email", "sms") and len(message_id) == 36
    msg = email.message_from_bytes(emails[0].read_bytes(), policy=policy.default)
    assert msg["To"].endswith("@parents.example.org")
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert "Pupil became distressed" in text and "Pupil became distressed" in html
    assert "Seclusion" in text
    for f in sms:
        to, body = f.read_text().split("\n", 1)
        assert to.startswith("+447700900")
        assert "distressed" not in body  # an SMS carries no incident detail

    after = (await clients["reporting"].get("/v1/trusts/TR00001/summary", headers=lead)).json()
    assert after["incidents"]["total"]["count"] == before["incidents"]["total"]["count"] + 1
    assert after["incidents"]["seclusion"]["count"] == before["incidents"]["seclusion"]["count"] + 1
    assert after["parent_reports_sent"]["count"] == len(emails)
    school = next(s for s in after["schools"] if s["school_urn"] == "100001")
    school_before = next(s for s in before["schools"] if s["school_urn"] == "100001")
    assert school["incidents"]["count"] == school_before["incidents"]["count"] + 1

    reports = await clients["notifications"].get(
        f"/v1/incidents/{incident['incident_id']}/parent-reports", headers=lead
    )
    assert reports.status_code == 200
    assert {r["status"] for r in reports.json()} == {"sent"}
    assert all(m["status"] == "delivered" for r in reports.json() for m in r["messages"])


async def test_replayed_create_is_a_no_op(clients, token, embedded) -> None:
    headers = {**auth(token("mis_client")), "Idempotency-Key": "k-1"}
    first = await clients["incidents"].post("/v1/incidents", json=EXAMPLE_INCIDENT, headers=headers)
    again = await clients["incidents"].post("/v1/incidents", json=EXAMPLE_INCIDENT, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["incident_id"] == first.json()["incident_id"]
    other = dict(EXAMPLE_INCIDENT, summary="Something else entirely.")
    clash = await clients["incidents"].post("/v1/incidents", json=other, headers=headers)
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    # Re-sent by the MIS without a key: the natural key makes it a no-op too.
    resent = await clients["incidents"].post(
        "/v1/incidents", json=EXAMPLE_INCIDENT, headers=auth(token("mis_client"))
    )
    assert resent.status_code == 200
    assert resent.json()["incident_id"] == first.json()["incident_id"]
    await embedded.pump()
    assert len([f for f in embedded.messages() if f.suffix == ".eml"]) == 2  # two parents, once


async def test_incomplete_submission_names_every_field(clients, token) -> None:
    body = {
        "school_urn": "100001",
        "pupil_ref": "NOPE",
        "occurred_at": "2030-01-01T10:00:00+00:00",
        "ended_at": "2029-01-01T10:00:00+00:00",
        "intervention_type": "cuddle",
        "summary": "x",
    }
    r = await clients["incidents"].post("/v1/incidents", json=body, headers=auth(token("recorder")))
    assert r.status_code == 422
    pointers = {e["pointer"] for e in r.json()["errors"]}
    assert {"/pupil_ref", "/occurred_at", "/ended_at", "/intervention_type"} <= pointers

    r = await clients["incidents"].post("/v1/incidents", json={}, headers=auth(token("recorder")))
    assert r.status_code == 422
    pointers = {e["pointer"] for e in r.json()["errors"]}
    assert {
        "/school_urn",
        "/pupil_ref",
        "/occurred_at",
        "/intervention_type",
        "/summary",
    } <= pointers


async def test_historic_history_sends_nothing_but_counts(clients, token, embedded) -> None:
    await embedded.pump()
    assert embedded.messages() == []
    summary = await clients["reporting"].get(
        "/v1/trusts/TR00001/summary", headers=auth(token("trust_lead"))
    )
    assert summary.json()["incidents"]["total"]["count"] == 12
