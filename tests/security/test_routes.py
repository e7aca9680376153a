"""Table-driven checks over every route of every service, from the route inventory."""

from __future__ import annotations

import pytest

from shared.auth.principal import ROLES
from tests.support.fixtures import auth
from tests.support.routes import inventory

# Routes with no Candour JWT: health, the token endpoint (it authenticates clients itself),
# GOV.UK Notify's delivery receipts (Notify's own bearer token, checked in the route) and a
# parent's read confirmation (an HMAC-signed, expiring link).
# A new public route must be added here on purpose.
PUBLIC = {
    ("incidents", "GET", "/healthz"),
    ("incidents", "GET", "/readyz"),
    ("incidents", "POST", "/v1/oauth/token"),
    ("notifications", "GET", "/healthz"),
    ("notifications", "GET", "/readyz"),
    ("notifications", "POST", "/v1/providers/notify/receipts"),
    ("notifications", "GET", "/v1/read/{token}"),
    ("notifications", "POST", "/v1/read/{token}"),
    ("reporting", "GET", "/healthz"),
    ("reporting", "GET", "/readyz"),
}
UNDOCUMENTED = {"/metrics"}


def test_inventory_finds_roles(apps) -> None:
    routes = {(r.service, r.method, r.path): r for r in inventory(apps)}
    assert routes[("incidents", "POST", "/v1/clients")].roles == {"trust_lead"}
    assert "recorder" in routes[("incidents", "GET", "/v1/incidents")].roles
    assert "governor" not in routes[("incidents", "GET", "/v1/incidents")].roles
    assert routes[("incidents", "POST", "/v1/oauth/token")].public
    assert routes[("incidents", "POST", "/v1/oauth/token")].has_body
    get_client = routes[("incidents", "GET", "/v1/clients/{client_id}")]
    assert get_client.sample_path() == "/v1/clients/TR00001-0123456789abcdef"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_only_the_intended_routes_are_public(apps) -> None:
    public = {
        (r.service, r.method, r.path)
        for r in inventory(apps)
        if r.public and r.path not in UNDOCUMENTED
    }
    assert public == PUBLIC


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_every_route_refuses_roles_it_does_not_admit_and_anonymous_callers(
    apps, clients, token
) -> None:
    for route in inventory(apps):
        if route.public or route.path in UNDOCUMENTED:
            continue
        client = clients[route.service]
        path = route.sample_path()
        r = await client.request(route.method, path, json={} if route.has_body else None)
        assert r.status_code == 401, route.name
        for role in ROLES:
            r = await client.request(
                route.method, path, json={} if route.has_body else None, headers=auth(token(role))
            )
            assert r.status_code < 500, (route.name, role, r.text)
            assert r.headers["content-type"].startswith("application/"), route.name
            if role in route.roles:
                # Admitted: past authentication (a scope or school check may still say 403).
                assert r.status_code != 401, (route.name, role, r.text)
            else:
                assert r.status_code == 403, (route.name, role, r.status_code)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_a_wrong_method_names_every_allowed_one(clients, token) -> None:
    r = await clients["incidents"].delete("/v1/incidents", headers=auth(token("recorder")))
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    r = await clients["incidents"].put(
        "/v1/clients/TR00001-0123456789abcdef", headers=auth(token("trust_lead"))
    )
    assert set(r.headers["allow"].split(", ")) == {"GET", "HEAD"}
