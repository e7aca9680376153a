"""Client credentials: register, obtain a token, use it, rotate, revoke, refused everywhere."""

from __future__ import annotations

import asyncio
import base64
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from jose import jwt

from services.incidents import models as im
from services.incidents.schemas import EXAMPLE_INCIDENT
from tests.support.fixtures import auth

pytestmark = pytest.mark.usefixtures("seeded")
FORM = "application/x-www-form-urlencoded"


async def register(clients, token, **body) -> dict:
    payload = {"name": "Oak MIS", "role": "mis_client", "schools": ["100001"], **body}
    r = await clients["incidents"].post(
        "/v1/clients", json=payload, headers=auth(token("trust_lead"))
    )
    assert r.status_code == 201, r.text
    return r.json()


async def obtain(clients, client_id: str, secret: str, **extra: str):
    data = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return await clients["incidents"].post("/v1/oauth/token", data={**data, **extra})


async def refused_within(client, path: str, headers: dict, seconds: float = 6.0) -> float:
    """Poll until the service answers 401; return how long it took."""
    started = time.monotonic()
    while True:
        r = await client.get(path, headers=headers)
        if r.status_code == 401:
            assert r.headers["content-type"] == "application/problem+json"
            assert "revoked" in r.json()["detail"]
            return time.monotonic() - started
        assert r.status_code == 200, r.text
        assert time.monotonic() - started < seconds, "client still accepted"
        await asyncio.sleep(0.1)


async def test_register_obtain_use_revoke_refused_everywhere(
    clients, token, embedded, contexts, settings
) -> None:
    mis = await register(clients, token, scopes=["incidents:write"])
    portal = await register(
        clients, token, name="Trust portal", role="portal_client", schools=["*"]
    )
    assert mis["client_secret"].startswith("cs_") and mis["client_id"].startswith("TR00001-")
    assert mis["secrets_valid"] == 1

    # The secret is shown once: never listed, stored only as a salted scrypt hash.
    listed = await clients["incidents"].get("/v1/clients", headers=auth(token("trust_lead")))
    assert {c["client_id"] for c in listed.json()} == {mis["client_id"], portal["client_id"]}
    assert all("client_secret" not in c for c in listed.json())
    async with contexts["incidents"].db.engine.connect() as conn:
        hashes = (await conn.execute(sa.select(im.api_client_secret.c.secret_hash))).scalars()
        hashes = list(hashes)
    assert len(hashes) == 2 and len(set(hashes)) == 2
    assert all(h.startswith("scrypt$") and mis["client_secret"] not in h for h in hashes)

    r = await obtain(clients, mis["client_id"], mis["client_secret"])
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    grant = r.json()
    assert grant["token_type"] == "Bearer" and grant["expires_in"] <= 600
    assert grant["scope"] == "incidents:write"
    claims = jwt.get_unverified_claims(grant["access_token"])
    assert claims["exp"] - claims["iat"] <= 600
    assert claims["client_id"] == mis["client_id"] and claims["role"] == "mis_client"
    assert claims["schools"] == ["100001"] and claims["trust"] == "TR00001"
    mis_auth = auth(grant["access_token"])
    portal_auth = auth(
        (await obtain(clients, portal["client_id"], portal["client_secret"])).json()["access_token"]
    )

    # The tokens work on every service, within the client's role and schools.
    created = await clients["incidents"].post(
        "/v1/incidents", json=EXAMPLE_INCIDENT, headers=mis_auth
    )
    assert created.status_code == 201, created.text
    assert created.json()["recorded_by"] == f"client:{mis['client_id']}"
    other_school = dict(EXAMPLE_INCIDENT, school_urn="100002", source_id="x-2")
    r = await clients["incidents"].post("/v1/incidents", json=other_school, headers=mis_auth)
    assert r.status_code in (403, 404, 422)
    iid = created.json()["incident_id"]
    await embedded.pump()
    reports_path = f"/v1/incidents/{iid}/parent-reports"
    assert (await clients["notifications"].get(reports_path, headers=mis_auth)).status_code == 200
    summary_path = "/v1/trusts/TR00001/summary"
    assert (await clients["reporting"].get(summary_path, headers=portal_auth)).status_code == 200

    for c in (mis, portal):
        r = await clients["incidents"].post(
            f"/v1/clients/{c['client_id']}/revoke", headers=auth(token("trust_lead"))
        )
        assert r.status_code == 200 and r.json()["revoked_at"] is not None
    # Incidents holds the registry: refused at once, and no new token is issued.
    r = await clients["incidents"].get("/v1/incidents", headers=mis_auth)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]
    r = await obtain(clients, mis["client_id"], mis["client_secret"])
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"

    # The others learn it from client.revoked.v1 through their inboxes, within seconds.
    assert await embedded.pump() >= 2
    assert await refused_within(clients["notifications"], reports_path, mis_auth) < 4
    assert await refused_within(clients["reporting"], summary_path, portal_auth) < 4
    # Revoking again is a no-op: no second event.
    again = await clients["incidents"].post(
        f"/v1/clients/{mis['client_id']}/revoke", headers=auth(token("trust_lead"))
    )
    assert again.status_code == 200 and await embedded.pump() == 0
    # Tokens of other callers are untouched.
    r = await clients["reporting"].get(summary_path, headers=auth(token("governor")))
    assert r.status_code == 200


async def test_rotation_keeps_the_old_secret_for_the_overlap(clients, token, clock) -> None:
    c = await register(clients, token)
    lead = auth(token("trust_lead"))
    r = await clients["incidents"].post(
        f"/v1/clients/{c['client_id']}/rotate-secret", json={"overlap_seconds": 300}, headers=lead
    )
    assert r.status_code == 200, r.text
    rotated = r.json()
    assert rotated["client_secret"] != c["client_secret"] and rotated["secrets_valid"] == 2
    assert (await obtain(clients, c["client_id"], c["client_secret"])).status_code == 200
    assert (await obtain(clients, c["client_id"], rotated["client_secret"])).status_code == 200
    clock.advance(seconds=301)
    old = await obtain(clients, c["client_id"], c["client_secret"])
    assert old.status_code == 401 and old.json()["error"] == "invalid_client"
    assert (await obtain(clients, c["client_id"], rotated["client_secret"])).status_code == 200
    got = await clients["incidents"].get(f"/v1/clients/{c['client_id']}", headers=lead)
    assert got.json()["secrets_valid"] == 1
    # Rotation with no body uses the configured overlap (a day by default).
    r = await clients["incidents"].post(f"/v1/clients/{c['client_id']}/rotate-secret", headers=lead)
    assert r.status_code == 200 and r.json()["secrets_valid"] == 2


async def test_tokens_last_at_most_ten_minutes(clients, token, clock) -> None:
    c = await register(clients, token)
    grant = (await obtain(clients, c["client_id"], c["client_secret"])).json()
    headers = auth(grant["access_token"])
    assert (await clients["incidents"].get("/v1/incidents", headers=headers)).status_code == 200
    clock.advance(minutes=10, seconds=31)  # beyond the 30 s leeway
    r = await clients["incidents"].get("/v1/incidents", headers=headers)
    assert r.status_code == 401 and r.json()["detail"] == "token expired"


async def test_token_endpoint_errors_follow_rfc_6749(clients, token) -> None:
    c = await register(clients, token, scopes=["incidents:write"])
    post = clients["incidents"].post
    ok = {"grant_type": "client_credentials", "client_id": c["client_id"]}

    async def error(r, status: int, code: str) -> None:
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == "application/json"
        assert r.headers["cache-control"] == "no-store"
        assert r.json()["error"] == code

    await error(await post("/v1/oauth/token", json=ok), 400, "invalid_request")
    await error(await post("/v1/oauth/token", data={}), 400, "invalid_request")
    await error(
        await post("/v1/oauth/token", data={**ok, "grant_type": "password"}),
        400,
        "unsupported_grant_type",
    )
    repeated = "grant_type=client_credentials&grant_type=client_credentials"
    await error(
        await post("/v1/oauth/token", content=repeated, headers={"content-type": FORM}),
        400,
        "invalid_request",
    )
    bad = await obtain(clients, c["client_id"], "cs_wrong")
    await error(bad, 401, "invalid_client")
    assert bad.headers["www-authenticate"].startswith("Basic")
    await error(await obtain(clients, "TR00002-0123456789abcdef", "x"), 401, "invalid_client")
    await error(await obtain(clients, "nonsense", "x"), 401, "invalid_client")
    await error(
        await obtain(clients, c["client_id"], c["client_secret"], scope="pupil:read"),
        400,
        "invalid_scope",
    )
    basic = base64.b64encode(f"{c['client_id']}:{c['client_secret']}".encode()).decode()
    r = await post(
        "/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 200 and r.json()["scope"] == "incidents:write"
    both = await post(
        "/v1/oauth/token",
        data={**ok, "client_secret": c["client_secret"]},
        headers={"Authorization": f"Basic {basic}"},
    )
    await error(both, 400, "invalid_request")


async def test_only_a_trust_lead_manages_clients_of_its_own_trust(clients, token) -> None:
    c = await register(clients, token)
    body = {"name": "x", "role": "mis_client", "schools": ["*"]}
    for role in ("recorder", "school_lead", "dsl", "governor", "mis_client", "portal_client"):
        r = await clients["incidents"].post("/v1/clients", json=body, headers=auth(token(role)))
        assert r.status_code == 403, role
    other = auth(token("trust_lead", trust="TR00002"))
    for path in (f"/v1/clients/{c['client_id']}", f"/v1/clients/{c['client_id']}/revoke"):
        method = (
            clients["incidents"].get if path.endswith(c["client_id"]) else clients["incidents"].post
        )
        r = await method(path, headers=other)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert (await clients["incidents"].get("/v1/clients", headers=other)).json() == []
    r = await clients["incidents"].post(
        "/v1/clients",
        json={"name": "x", "role": "mis_client", "schools": ["100001", "999999"]},
        headers=auth(token("trust_lead")),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "/schools/1"
    r = await clients["incidents"].post(
        "/v1/clients",
        json={"name": "x", "role": "service", "schools": ["*", "100001"]},
        headers=auth(token("trust_lead")),
    )
    assert {e["pointer"] for e in r.json()["errors"]} == {"/role", "/schools"}


def test_ttl_above_ten_minutes_is_refused() -> None:
    from pydantic import ValidationError

    from shared.config import Settings

    with pytest.raises(ValidationError):
        Settings(client_token_ttl_seconds=601)
    assert timedelta(seconds=Settings().client_token_ttl_seconds) <= timedelta(minutes=10)
