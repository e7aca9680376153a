"""No token of one trust (or one school) reaches another's data, by any route.

Driven by the route inventory: every operation of every service is called with real ids of
the demo trust's records, as every role it admits, by callers of another trust and of
another school; no answer may carry those records' ids.
"""

from __future__ import annotations

import pytest

from services.incidents.schemas import EXAMPLE_INCIDENT
from tests.support.fixtures import auth
from tests.support.routes import inventory

pytestmark = pytest.mark.usefixtures("seeded")


async def demo_records(clients, token, embedded) -> dict[str, str]:
    """An incident of school 100001 (with its parent reports) and a machine client."""
    lead = auth(token("trust_lead"))
    incident = (
        await clients["incidents"].post(
            "/v1/incidents", json=EXAMPLE_INCIDENT, headers=auth(token("recorder"))
        )
    ).json()
    client = (
        await clients["incidents"].post(
            "/v1/clients",
            json={"name": "MIS", "role": "mis_client", "schools": ["100001"]},
            headers=lead,
        )
    ).json()
    await embedded.pump()
    reports = await clients["notifications"].get(
        f"/v1/incidents/{incident['incident_id']}/parent-reports", headers=lead
    )
    assert reports.status_code == 200 and reports.json()
    return {
        "incident_id": incident["incident_id"],
        "pupil_id": incident["pupil_id"],
        "client_id": client["client_id"],
        "report_id": reports.json()[0]["report_id"],
        "trust_id": "TR00001",
        "urn": "100001",
        "school_urn": "100001",
    }


@pytest.mark.parametrize("backend", ["postgres"])
async def test_no_route_shows_another_trusts_or_schools_records(
    apps, clients, token, embedded
) -> None:
    ids = await demo_records(clients, token, embedded)
    secrets = [ids[k] for k in ("incident_id", "pupil_id", "client_id", "report_id")]
    outsiders = {
        "other trust": lambda role: token(role, trust="TR00002"),
        "other school": lambda role: token(role, schools=["100002"]),
    }
    checked = 0
    for route in inventory(apps):
        if route.public:
            continue
        path = route.sample_path(**ids)
        for who, make in outsiders.items():
            for role in sorted(route.roles):
                if who == "other school" and role in ("trust_lead", "service", "portal_client"):
                    continue  # trust-wide roles see every school of their trust by design
                r = await clients[route.service].request(
                    route.method,
                    path,
                    json={} if route.has_body else None,
                    headers=auth(make(role)),
                )
                assert r.status_code < 500, (route.name, who, role, r.text)
                text = r.text
                if r.headers.get("content-type") == "application/problem+json":
                    text = text.replace(path, "")  # `instance` echoes the caller's own path
                leaked = [s for s in secrets if s in text]
                assert not leaked, (route.name, who, role, leaked)
                if who == "other trust" and "{" in route.path and r.status_code != 422:
                    assert r.status_code in (403, 404), (route.name, role, r.status_code)
                checked += 1
    assert checked > 20
