"""Amendments as revisions, ETag/If-Match, review and closure, re-sends."""

from __future__ import annotations

import asyncio

import pytest

from tests.incidents.helpers import make_incident, outbox_payloads, outbox_types
from tests.support.fixtures import auth

pytestmark = pytest.mark.usefixtures("seeded")


async def _submit(clients, token, **kw) -> dict:
    r = await clients["incidents"].post(
        "/v1/incidents", json=make_incident(**kw), headers=auth(token("mis_client"))
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_amendment_is_a_new_revision_and_the_original_stays_readable(
    clients, token, seeded
) -> None:
    rec = await _submit(clients, token)
    iid = rec["incident_id"]
    lead = auth(token("school_lead", schools=["100001"]))
    r = await clients["incidents"].post(
        f"/v1/incidents/{iid}/amendments",
        json={"reason": "Location corrected", "changes": {"location": "Year 4 classroom"}},
        headers={**lead, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.json()["revision"] == 2 and r.json()["location"] == "Year 4 classroom"

    first = await clients["incidents"].get(f"/v1/incidents/{iid}/revisions/1", headers=lead)
    assert first.status_code == 200
    assert first.json()["incident"]["location"] == "Year 4 corridor"
    second = (
        await clients["incidents"].get(f"/v1/incidents/{iid}/revisions/2", headers=lead)
    ).json()
    assert second["author"] != "" and second["reason"] == "Location corrected"
    assert second["changed_fields"] == ["/location"]
    listed = (await clients["incidents"].get(f"/v1/incidents/{iid}/revisions", headers=lead)).json()
    assert [x["revision"] for x in listed] == [1, 2]
    assert (
        await clients["incidents"].get(f"/v1/incidents/{iid}/revisions/3", headers=lead)
    ).status_code == 404

    amended = await outbox_payloads(seeded["incidents"], "incident.amended.v1", iid)
    assert amended[0]["amendment"]["changed_fields"] == ["/location"]
    assert amended[0]["amendment"]["material"] is False
    assert amended[0]["incident"]["revision"] == 2

    stale = await clients["incidents"].post(
        f"/v1/incidents/{iid}/amendments",
        json={"reason": "Another", "changes": {"location": "Hall"}},
        headers={**lead, "If-Match": '"1"'},
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    missing = await clients["incidents"].post(
        f"/v1/incidents/{iid}/amendments",
        json={"reason": "Another", "changes": {"location": "Hall"}},
        headers=lead,
    )
    assert missing.status_code == 428
    bad = await clients["incidents"].post(
        f"/v1/incidents/{iid}/amendments",
        json={"reason": "Times", "changes": {"ended_at": "2026-11-27T09:00:00+00:00"}},
        headers={**lead, "If-Match": '"2"'},
    )
    assert bad.status_code == 422
    assert "/ended_at" in {e["pointer"] for e in bad.json()["errors"]}
    recorder = await clients["incidents"].post(
        f"/v1/incidents/{iid}/amendments",
        json={"reason": "x", "changes": {"location": "Hall"}},
        headers={**auth(token("recorder")), "If-Match": '"2"'},
    )
    assert recorder.status_code == 403


async def test_two_amendments_with_one_etag_exactly_one_wins(clients, token, seeded) -> None:
    rec = await _submit(clients, token)
    iid = rec["incident_id"]
    lead = {**auth(token("trust_lead")), "If-Match": '"1"'}

    async def amend(place: str):
        return await clients["incidents"].post(
            f"/v1/incidents/{iid}/amendments",
            json={"reason": f"to {place}", "changes": {"location": place}},
            headers=lead,
        )

    a, b = await asyncio.gather(amend("Hall"), amend("Library"))
    assert sorted([a.status_code, b.status_code]) == [200, 412], (a.text, b.text)
    winner = a if a.status_code == 200 else b
    now = (await clients["incidents"].get(f"/v1/incidents/{iid}", headers=lead)).json()
    assert now["revision"] == 2 and now["location"] == winner.json()["location"]
    assert await outbox_types(seeded["incidents"], iid) == [
        "incident.submitted.v1",
        "incident.amended.v1",
    ]


async def test_resend_with_changes_becomes_a_revision(clients, token, seeded) -> None:
    body = make_incident()
    mis = auth(token("mis_client"))
    first = await clients["incidents"].post("/v1/incidents", json=body, headers=mis)
    same = await clients["incidents"].post("/v1/incidents", json=body, headers=mis)
    assert first.status_code == 201 and same.status_code == 200
    assert same.json()["revision"] == 1
    changed = dict(body, summary="Pupil became distressed; corrected account from the MIS.")
    again = await clients["incidents"].post("/v1/incidents", json=changed, headers=mis)
    assert again.status_code == 200, again.text
    assert again.json()["incident_id"] == first.json()["incident_id"]
    assert again.json()["revision"] == 2 and again.json()["summary"] == changed["summary"]
    rev = await clients["incidents"].get(
        f"/v1/incidents/{first.json()['incident_id']}/revisions/2", headers=mis
    )
    assert rev.json()["reason"] == "re-sent by the source system"
    assert rev.json()["changed_fields"] == ["/summary"]
    amended = await outbox_payloads(
        seeded["incidents"], "incident.amended.v1", first.json()["incident_id"]
    )
    assert amended[0]["amendment"]["material"] is True


async def test_review_then_close(clients, token, seeded) -> None:
    rec = await _submit(clients, token)
    iid = rec["incident_id"]
    review = {"outcome": "Proportionate; plan updated", "support_plan_changed": True}
    no = await clients["incidents"].post(
        f"/v1/incidents/{iid}/review", json=review, headers=auth(token("recorder"))
    )
    assert no.status_code == 403
    closed_early = await clients["incidents"].post(
        f"/v1/incidents/{iid}/close", headers=auth(token("dsl"))
    )
    assert closed_early.status_code == 409
    r = await clients["incidents"].post(
        f"/v1/incidents/{iid}/review",
        json=review,
        headers={**auth(token("dsl")), "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "reviewed" and r.json()["review"]["support_plan_changed"] is True
    c = await clients["incidents"].post(
        f"/v1/incidents/{iid}/close", headers=auth(token("school_lead"))
    )
    assert c.status_code == 200 and c.json()["status"] == "closed"
    reviewed = await outbox_payloads(seeded["incidents"], "incident.reviewed.v1", iid)
    assert [p["status"] for p in reviewed] == ["reviewed", "closed"]
    assert reviewed[0]["support_plan_changed"] is True
    listed = await clients["incidents"].get(
        "/v1/incidents", params={"status": "closed"}, headers=auth(token("trust_lead"))
    )
    assert [i["incident_id"] for i in listed.json()["items"]] == [iid]


async def test_concurrent_twins_record_once(clients, token, seeded) -> None:
    body = make_incident()
    keyed = {**auth(token("mis_client")), "Idempotency-Key": "twin-1"}
    a, b = await asyncio.gather(
        clients["incidents"].post("/v1/incidents", json=body, headers=keyed),
        clients["incidents"].post("/v1/incidents", json=body, headers=keyed),
    )
    assert sorted([a.status_code, b.status_code]) == [200, 201], (a.text, b.text)
    assert a.json()["incident_id"] == b.json()["incident_id"]
    unkeyed = auth(token("recorder"))
    other = make_incident()
    c, d = await asyncio.gather(
        clients["incidents"].post("/v1/incidents", json=other, headers=unkeyed),
        clients["incidents"].post("/v1/incidents", json=other, headers=unkeyed),
    )
    assert sorted([c.status_code, d.status_code]) == [200, 201], (c.text, d.text)
    assert c.json()["incident_id"] == d.json()["incident_id"]
    assert (await outbox_types(seeded["incidents"], c.json()["incident_id"])) == [
        "incident.submitted.v1"
    ]
