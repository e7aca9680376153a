"""Every event type the incidents service emits relays to the bus cleanly."""

from __future__ import annotations

import pytest

from tests.incidents.helpers import intervention, make_incident, outbox_types
from tests.support.fixtures import auth

pytestmark = pytest.mark.usefixtures("seeded")


async def test_new_event_types_relay(clients, token, embedded, seeded) -> None:
    await embedded.pump()
    lead = auth(token("trust_lead"))
    dsl = auth(token("dsl"))
    body = make_incident(
        intervention_type="restraint",
        interventions=[intervention(type="restraint", technique="basket_hold")],
    )
    rec = (await clients["incidents"].post("/v1/incidents", json=body, headers=lead)).json()
    iid = rec["incident_id"]
    await clients["incidents"].post(
        f"/v1/incidents/{iid}/amendments",
        json={"reason": "Hold corrected", "changes": {"location": "Hall"}},
        headers={**lead, "If-Match": '"1"'},
    )
    await clients["incidents"].post(
        f"/v1/incidents/{iid}/review",
        json={"outcome": "Unsafe hold; retraining", "support_plan_changed": True},
        headers=dsl,
    )
    await clients["incidents"].put(
        "/v1/schools/100001/rolls/2026-27", json={"total": 200}, headers=lead
    )
    await clients["incidents"].put(
        "/v1/trust/settings", json={"record_deadline_hours": 12}, headers=lead
    )
    await clients["incidents"].post("/v1/vocabulary/publish", headers=lead)
    types = set(await outbox_types(seeded["incidents"]))
    assert {
        "incident.submitted.v1",
        "practice.flagged.v1",
        "incident.amended.v1",
        "incident.reviewed.v1",
        "roll.updated.v1",
        "trust.settings_changed.v1",
        "vocabulary.published.v1",
    } <= types
    assert await embedded.pump() > 0
    feed = await clients["incidents"].get(
        "/v1/events", params={"after": 0, "limit": 500}, headers=lead
    )
    assert feed.status_code == 200
    assert types <= {e["type"] for e in feed.json()["items"]}
    assert await embedded.pump() == 0  # nothing stuck
