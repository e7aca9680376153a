"""Tokens: every bad one is a 401 problem; scope decides between 403 and 404."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from jose import jwt

from services.incidents.schemas import EXAMPLE_INCIDENT
from shared.auth.jwt import TokenError, issue_token, verify_token
from shared.config import DEV_JWT_SECRET, Settings
from tests.support.fixtures import TEST_SECRET, auth

pytestmark = pytest.mark.usefixtures("seeded")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(settings: Settings, clock, **over) -> dict:
    now = int(clock.now().timestamp())
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": "t",
        "iat": now,
        "exp": now + 600,
        "jti": "j",
        "trust": "TR00001",
        "schools": "*",
        "role": "trust_lead",
    }
    claims.update(over)
    return {k: v for k, v in claims.items() if v is not None}


def bad_tokens(settings: Settings, clock) -> dict[str, str]:
    good = _claims(settings, clock)
    sign = lambda claims, key=TEST_SECRET: jwt.encode(claims, key, algorithm="HS256")  # noqa: E731
    now = int(clock.now().timestamp())
    return {
        "expired": sign(_claims(settings, clock, iat=now - 7200, exp=now - 3600)),
        "wrong audience": sign(_claims(settings, clock, aud="someone-else")),
        "wrong issuer": sign(_claims(settings, clock, iss="https://evil.example")),
        "alg none": _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(good) + ".",
        "wrong key": sign(good, key="another-secret-another-secret-another"),
        "dev default key": sign(good, key=DEV_JWT_SECRET),
        "not yet valid": sign(_claims(settings, clock, nbf=now + 3600)),
        "missing trust": sign(_claims(settings, clock, trust=None)),
        "missing exp": sign(_claims(settings, clock, exp=None)),
        "bad role": sign(_claims(settings, clock, role="admin")),
        "bad schools": sign(_claims(settings, clock, schools=["DROP TABLE"])),
        "garbage": "not.a.token",
        "oversized": sign(_claims(settings, clock, pad="x" * 10_000)),
    }


@pytest.mark.parametrize(
    "service,path",
    [
        ("incidents", "/v1/incidents"),
        ("notifications", "/v1/incidents/00000000-0000-0000-0000-000000000000/parent-reports"),
        ("reporting", "/v1/trusts/TR00001/summary"),
    ],
)
async def test_bad_tokens_are_401_problems(clients, settings, clock, service, path) -> None:
    client = clients[service]
    r = await client.get(path)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"].startswith("Bearer")
    for name, tok in bad_tokens(settings, clock).items():
        r = await client.get(path, headers=auth(tok))
        assert r.status_code == 401, name
        body = r.json()
        assert body["status"] == 401 and body["type"].endswith("/unauthorized"), name


def test_verify_token_uses_the_given_clock(settings, clock) -> None:
    tok = issue_token(
        settings, role="recorder", trust_id="TR00001", ttl=timedelta(minutes=5), now=clock.now()
    )
    assert verify_token(tok, settings, clock.now()).role == "recorder"
    with pytest.raises(TokenError, match="expired"):
        verify_token(tok, settings, clock.now() + timedelta(minutes=6))


async def test_other_trust_gets_404_and_governor_gets_403(clients, token, embedded) -> None:
    created = await clients["incidents"].post(
        "/v1/incidents", json=EXAMPLE_INCIDENT, headers=auth(token("recorder"))
    )
    assert created.status_code == 201
    iid = created.json()["incident_id"]
    await embedded.pump()
    other = auth(token("trust_lead", trust="TR00002"))
    assert (
        await clients["incidents"].get(f"/v1/incidents/{iid}", headers=other)
    ).status_code == 404
    listed = await clients["incidents"].get("/v1/incidents", headers=other)
    assert listed.status_code == 200 and listed.json()["items"] == []
    reports = f"/v1/incidents/{iid}/parent-reports"
    assert (await clients["notifications"].get(reports, headers=other)).status_code == 404
    summary = await clients["reporting"].get("/v1/trusts/TR00001/summary", headers=other)
    assert summary.status_code == 404
    # Another school of the same trust: 404 as well.
    elsewhere = auth(token("school_lead", schools=["100002"]))
    assert (
        await clients["incidents"].get(f"/v1/incidents/{iid}", headers=elsewhere)
    ).status_code == 404
    assert (await clients["notifications"].get(reports, headers=elsewhere)).status_code == 404
    # A school-scoped recorder cannot record for another school.
    r = await clients["incidents"].post("/v1/incidents", json=EXAMPLE_INCIDENT, headers=elsewhere)
    assert r.status_code == 422
    assert r.json()["errors"][0]["pointer"] == "/school_urn"
    # A governor may never use incident routes.
    gov = auth(token("governor"))
    for method, path in [
        ("GET", f"/v1/incidents/{iid}"),
        ("GET", "/v1/incidents"),
        ("POST", "/v1/incidents"),
    ]:
        r = await clients["incidents"].request(method, path, headers=gov, json=EXAMPLE_INCIDENT)
        assert r.status_code == 403, path
        assert r.headers["content-type"] == "application/problem+json"
    assert (await clients["notifications"].get(reports, headers=gov)).status_code == 403


async def test_governor_summary_suppresses_small_counts(clients, token, embedded) -> None:
    await embedded.pump()
    gov = (
        await clients["reporting"].get(
            "/v1/trusts/TR00001/summary", headers=auth(token("governor"))
        )
    ).json()
    lead = (
        await clients["reporting"].get(
            "/v1/trusts/TR00001/summary", headers=auth(token("trust_lead"))
        )
    ).json()
    assert gov["suppression_threshold"] == 4 and lead["suppression_threshold"] is None
    assert lead["incidents"]["total"]["count"] == 12
    for school in gov["schools"]:
        count = school["incidents"]["count"]
        assert count is None or count == 0 or count > 4
    # Each demo school has 3 historic incidents: all withheld for governors, shown to leads.
    assert all(s["incidents"]["suppressed"] for s in gov["schools"])
    assert all(s["incidents"]["count"] == 3 for s in lead["schools"])


def test_default_secret_refused_outside_dev() -> None:
    with pytest.raises(ValueError, match="CANDOUR_JWT_SECRET"):
        Settings(env="production")
    with pytest.raises(ValueError, match="none"):
        Settings(env="dev", jwt_algorithms=["none"])
    Settings(env="production", jwt_secret="x" * 40, link_secret="y" * 40)
