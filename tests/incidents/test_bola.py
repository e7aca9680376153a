"""Object-level authorisation: every route with an id is scoped to trust and school."""

from __future__ import annotations

import pytest

from tests.incidents.helpers import make_incident
from tests.support.fixtures import auth

pytestmark = pytest.mark.usefixtures("seeded")


def id_routes(iid: str, draft: str) -> list[tuple[str, str, dict | None, dict]]:
    """Every incident route with an id: method, path, body, extra headers."""
    match = {"If-Match": '"1"'}
    return [
        ("GET", f"/v1/incidents/{iid}", None, {}),
        ("GET", f"/v1/incidents/{draft}", None, {}),
        ("GET", f"/v1/incidents/{iid}/revisions", None, {}),
        ("GET", f"/v1/incidents/{iid}/revisions/1", None, {}),
        (
            "POST",
            f"/v1/incidents/{iid}/amendments",
            {"reason": "x", "changes": {"location": "Hall"}},
            match,
        ),
        (
            "POST",
            f"/v1/incidents/{iid}/review",
            {"outcome": "ok", "support_plan_changed": False},
            match,
        ),
        ("POST", f"/v1/incidents/{iid}/close", None, {}),
        ("POST", f"/v1/incidents/{draft}/submit", None, {}),
        ("PUT", f"/v1/incidents/{draft}/draft", make_incident(status="draft"), {}),
    ]


async def _fixtures(clients, token) -> tuple[str, str]:
    lead = auth(token("dsl", schools=["100001"]))
    rec = await clients["incidents"].post("/v1/incidents", json=make_incident(), headers=lead)
    draft = await clients["incidents"].post(
        "/v1/incidents", json={"status": "draft", "school_urn": "100001"}, headers=lead
    )
    assert rec.status_code == draft.status_code == 201
    return rec.json()["incident_id"], draft.json()["incident_id"]


@pytest.mark.parametrize(
    "stranger",
    [
        {"trust": "TR00002"},  # another trust, all its schools
        {"trust": "TR00002", "schools": ["100001"]},  # another trust naming our URN
        {"schools": ["100002"]},  # our trust, another school
    ],
    ids=["other-trust", "other-trust-same-urn", "other-school"],
)
async def test_every_id_route_answers_404_to_strangers(clients, token, stranger) -> None:
    iid, draft = await _fixtures(clients, token)
    headers = auth(token("dsl", **stranger))
    for method, path, body, extra in id_routes(iid, draft):
        r = await clients["incidents"].request(
            method, path, json=body, headers={**headers, **extra}
        )
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    owner = auth(token("dsl", schools=["100001"]))
    # Nothing a stranger sent changed anything.
    got = (await clients["incidents"].get(f"/v1/incidents/{iid}", headers=owner)).json()
    assert got["revision"] == 1 and got["status"] == "submitted"
    assert (await clients["incidents"].get(f"/v1/incidents/{draft}", headers=owner)).json()[
        "status"
    ] == "draft"


async def test_strangers_lists_hold_nothing_of_ours(clients, token) -> None:
    await _fixtures(clients, token)
    for stranger in ({"trust": "TR00002"}, {"schools": ["100002"]}):
        r = await clients["incidents"].get(
            "/v1/incidents", params={"school_urn": "100001"}, headers=auth(token("dsl", **stranger))
        )
        assert r.status_code == 200 and r.json()["items"] == []


async def test_governor_reaches_no_pupil_level_route(clients, token) -> None:
    iid, draft = await _fixtures(clients, token)
    governor = auth(token("governor"))
    routes = [
        *id_routes(iid, draft),
        ("GET", "/v1/incidents", None, {}),
        ("POST", "/v1/incidents", make_incident(), {}),
    ]
    for method, path, body, extra in routes:
        r = await clients["incidents"].request(
            method, path, json=body, headers={**governor, **extra}
        )
        assert r.status_code == 403, (method, path, r.status_code)


def registry_routes(pid: str) -> list[tuple[str, str, dict | None]]:
    """Registry routes naming one school's pupil or staff (roles: trust_lead may use all)."""
    pupil = {"legal_first_name": "A", "legal_last_name": "B"}
    audit = {
        "policy_in_place": True,
        "parents_told_how": "letter",
        "seclusion_named_as": "time out",
        "training_bought": [],
        "data_reaches_governors": True,
        "post_incident_review": True,
        "no_contact_policy": False,
    }
    return [
        ("GET", "/v1/schools/100001/pupils/DEMO-0001", None),
        ("PUT", "/v1/schools/100001/pupils/DEMO-0001", pupil),
        ("GET", "/v1/schools/100001/staff/STF-1001", None),
        ("PUT", "/v1/schools/100001/staff/STF-1001", {"name": "X"}),
        ("PUT", "/v1/schools/100001/rolls/2026-27", {"total": 1}),
        ("PUT", "/v1/schools/100001/settings", {"record_deadline_hours": 5}),
        ("PUT", "/v1/schools/100001/audit", audit),
        ("GET", f"/v1/pupils/{pid}/file", None),
    ]


@pytest.mark.parametrize(
    "stranger",
    [{"trust": "TR00002"}, {"schools": ["100002"]}],
    ids=["other-trust", "other-school"],
)
async def test_registry_routes_answer_404_to_strangers(clients, token, stranger) -> None:
    from shared.ids import pupil_id

    pid = pupil_id("TR00001", "100001", "DEMO-0001")
    headers = auth(token("trust_lead", **stranger))
    for method, path, body in registry_routes(pid):
        r = await clients["incidents"].request(method, path, json=body, headers=headers)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
    owner = auth(token("trust_lead"))
    got = await clients["incidents"].get("/v1/schools/100001/pupils/DEMO-0001", headers=owner)
    assert got.json()["legal_last_name"] != "B"  # nothing a stranger sent was stored
    for method, path, body in registry_routes(pid):
        r = await clients["incidents"].request(
            method, path, json=body, headers=auth(token("governor"))
        )
        assert r.status_code == 403, (method, path, r.status_code)
