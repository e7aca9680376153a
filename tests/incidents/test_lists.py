"""Cursor-paginated incident lists with filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.incidents.helpers import intervention, make_incident
from tests.support.fixtures import auth

pytestmark = pytest.mark.usefixtures("seeded")


async def test_filters_and_cursor_pages(clients, token) -> None:
    lead = auth(token("trust_lead"))
    base = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)
    made = []
    for n in range(5):
        start = base + timedelta(days=n)
        restraint = n % 2 == 1
        body = make_incident(
            occurred_at=start.isoformat(),
            ended_at=(start + timedelta(minutes=5)).isoformat(),
            source_system="list-test",
        )
        if restraint:
            body["intervention_type"] = "restraint"
            body["interventions"] = [
                intervention(
                    type="restraint",
                    technique="single_elbow",
                    started_at=start.isoformat(),
                    ended_at=(start + timedelta(minutes=5)).isoformat(),
                )
            ]
        r = await clients["incidents"].post("/v1/incidents", json=body, headers=lead)
        assert r.status_code == 201, r.text
        made.append(r.json()["incident_id"])

    window = {
        "occurred_from": base.isoformat(),
        "occurred_to": (base + timedelta(days=5)).isoformat(),
    }
    seen: list[str] = []
    cursor = None
    while True:
        params = {**window, "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await clients["incidents"].get("/v1/incidents", params=params, headers=lead)).json()
        seen += [i["incident_id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == list(reversed(made))  # newest first, each once

    restraints = await clients["incidents"].get(
        "/v1/incidents", params={**window, "intervention_type": "physical_restraint"}, headers=lead
    )
    assert [i["incident_id"] for i in restraints.json()["items"]] == [made[3], made[1]]
    narrow = await clients["incidents"].get(
        "/v1/incidents",
        params={
            "occurred_from": (base + timedelta(days=1)).isoformat(),
            "occurred_to": (base + timedelta(days=2)).isoformat(),
        },
        headers=lead,
    )
    assert [i["incident_id"] for i in narrow.json()["items"]] == [made[1]]
    other_school = await clients["incidents"].get(
        "/v1/incidents", params={**window, "school_urn": "100002"}, headers=lead
    )
    assert other_school.json()["items"] == []
    submitted = await clients["incidents"].get(
        "/v1/incidents", params={**window, "status": "submitted"}, headers=lead
    )
    assert len(submitted.json()["items"]) == 5
    bad = await clients["incidents"].get(
        "/v1/incidents", params={"cursor": "garbage"}, headers=lead
    )
    assert bad.status_code == 422
