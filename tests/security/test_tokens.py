"""Token attacks on every service: each one answers 401 problem+json, never data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import httpx
import pytest
from jose import jwt

from services import catalog
from shared.auth.jwt import REQUIRED_CLAIMS
from shared.runtime import ServiceContext
from tests.support import tokens as t
from tests.support.fixtures import TEST_SECRET, auth

# A route of each service that a trust lead may call.
PROTECTED = {
    "incidents": "/v1/incidents",
    "notifications": "/v1/events",
    "reporting": "/v1/trusts/TR00001/summary",
}


async def answers(clients, token: str) -> dict[str, httpx.Response]:
    return {
        svc: await clients[svc].get(path, headers=auth(token)) for svc, path in PROTECTED.items()
    }


async def assert_refused(clients, token: str, why: str | None = None) -> None:
    for svc, r in (await answers(clients, token)).items():
        assert r.status_code == 401, (svc, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"].startswith("Bearer")
        if why:
            assert why in r.json()["detail"], (svc, r.json())


async def assert_accepted(clients, token: str) -> None:
    for svc, r in (await answers(clients, token)).items():
        assert r.status_code == 200, (svc, r.text)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_forged_and_stale_tokens_are_refused_everywhere(clients, settings, clock) -> None:
    now = clock.now()
    good = t.claims(settings, now)
    await assert_accepted(clients, t.hmac_signed(good, TEST_SECRET.encode()))

    await assert_refused(clients, t.unsigned(good), "algorithm")
    await assert_refused(clients, t.unsigned(good, alg="None"), "algorithm")
    await assert_refused(clients, t.unsigned(good, alg="HS256"), "signature")
    await assert_refused(clients, t.hmac_signed(good, b"another-secret"), "signature")
    await assert_refused(clients, t.hmac_signed(good, TEST_SECRET.encode(), "HS512"), "algorithm")
    await assert_refused(clients, t.keypair("RS256").sign(good), "algorithm")
    past = int((now - timedelta(minutes=5)).timestamp())
    await assert_refused(
        clients, t.hmac_signed({**good, "exp": past}, TEST_SECRET.encode()), "expired"
    )
    future = int((now + timedelta(minutes=5)).timestamp())
    await assert_refused(
        clients, t.hmac_signed({**good, "nbf": future}, TEST_SECRET.encode()), "not yet"
    )
    await assert_refused(
        clients, t.hmac_signed({**good, "iat": future}, TEST_SECRET.encode()), "future"
    )
    await assert_refused(clients, t.hmac_signed({**good, "aud": "other"}, TEST_SECRET.encode()))
    await assert_refused(clients, t.hmac_signed({**good, "iss": "evil"}, TEST_SECRET.encode()))
    for claim in REQUIRED_CLAIMS:
        await assert_refused(
            clients, t.hmac_signed(t.claims(settings, now, **{claim: None}), TEST_SECRET.encode())
        )
    for bad in (
        {"role": "superuser"},
        {"trust": "TR1"},
        {"schools": ["12"]},
        {"schools": 5},
        {"exp": "tomorrow"},
        {"scope": ["a"]},
    ):
        await assert_refused(clients, t.hmac_signed({**good, **bad}, TEST_SECRET.encode()))
    padded = t.hmac_signed({**good, "pad": "x" * 9000}, TEST_SECRET.encode())
    await assert_refused(clients, padded, "too large")
    for junk in ("", "a.b", "a.b.c", "....", "Bearer x"):
        await assert_refused(clients, junk)
    for svc, path in PROTECTED.items():
        r = await clients[svc].get(path)
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        r = await clients[svc].get(path, headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert r.status_code == 401
        r = await clients[svc].get(path, headers={"Authorization": b"Bearer \xe9\xff.a.b"})
        assert r.status_code == 401


def apps_with(contexts, **overrides: object) -> dict[str, httpx.AsyncClient]:
    out = {}
    for svc, ctx in contexts.items():
        settings = ctx.settings.model_copy(update=overrides)
        app = catalog.SPECS[svc].create_app(ServiceContext(svc, settings, ctx.db, ctx.clock))
        out[svc] = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url=f"http://{svc}.test",
        )
    return out


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("algorithms", [["RS256"], ["HS256", "RS256"]])
async def test_hs_rs_confusion_fails(contexts, settings, clock, algorithms) -> None:
    rsa = t.keypair("RS256")
    clients = apps_with(contexts, jwt_algorithms=algorithms, jwt_public_keys=[rsa.public_pem])
    good = t.claims(settings, clock.now())
    await assert_accepted(clients, rsa.sign(good))
    # The classic confusion: HS256 with the public key PEM as the HMAC secret.
    await assert_refused(clients, t.hmac_signed(good, rsa.public_pem.encode()))
    await assert_refused(clients, t.keypair("RS256").sign(good), "signature")
    await assert_refused(clients, t.unsigned(good, alg="RS256"))
    for c in clients.values():
        await c.aclose()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_keys_named_by_the_token_itself_are_never_trusted(contexts, settings, clock) -> None:
    """An embedded ``jwk``, a ``jku``/``x5u`` URL or a ``kid`` path: only configured keys count."""
    trusted, attacker = t.keypair("RS256", "k1"), t.keypair("RS256", "k1")
    clients = apps_with(contexts, jwt_algorithms=["RS256"], jwt_public_keys=[trusted.public_pem])
    good = t.claims(settings, clock.now())
    for headers in (
        {"jwk": attacker.public_jwk},
        {"jku": "http://127.0.0.1:9/jwks.json"},
        {"x5u": "http://127.0.0.1:9/cert.pem"},
        {"kid": "../../../../dev/null"},
    ):
        forged = jwt.encode(good, attacker.private_pem, algorithm="RS256", headers=headers)
        await assert_refused(clients, forged, "signature")
    await assert_accepted(clients, trusted.sign(good))
    for c in clients.values():
        await c.aclose()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_configured_public_keys_as_pem_and_jwk(contexts, settings, clock) -> None:
    rsa, ec = t.keypair("RS256"), t.keypair("ES256")
    clients = apps_with(
        contexts,
        jwt_algorithms=["RS256", "ES256"],
        jwt_public_keys=[rsa.public_pem, json.dumps(ec.public_jwk)],
    )
    good = t.claims(settings, clock.now())
    await assert_accepted(clients, rsa.sign(good))
    await assert_accepted(clients, ec.sign(good, kid=False))
    await assert_refused(clients, t.keypair("ES256").sign(good), "signature")
    await assert_refused(clients, rsa.sign({**good, "aud": "elsewhere"}))
    for c in clients.values():
        await c.aclose()


class JwksServer:
    """A JWKS document served on loopback, counting fetches."""

    def __init__(self) -> None:
        self.keys: list[dict] = []
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                body = json.dumps({"keys": owner.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def jwks_server() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_jwks_document_fetched_cached_and_refreshed_on_a_new_key(
    contexts, settings, clock, jwks_server
) -> None:
    first, second = t.keypair("RS256", "k1"), t.keypair("ES256", "k2")
    jwks_server.keys = [first.public_jwk]
    clients = apps_with(contexts, jwt_algorithms=["RS256", "ES256"], jwt_jwks_url=jwks_server.url)
    for c in clients.values():
        c._transport.app.state.jwks.min_refetch = 0  # type: ignore[attr-defined]
    good = t.claims(settings, clock.now())
    await assert_accepted(clients, first.sign(good))
    await assert_accepted(clients, first.sign(good))
    assert jwks_server.fetches == 3  # once per service, then cached
    # The provider rotates: a token naming the new key id triggers one refetch.
    jwks_server.keys = [first.public_jwk, second.public_jwk]
    await assert_accepted(clients, second.sign(good))
    assert jwks_server.fetches == 6
    await assert_refused(clients, t.keypair("RS256", "k1").sign(good), "signature")
    await assert_refused(clients, t.hmac_signed(good, first.public_pem.encode()), "algorithm")
    for c in clients.values():
        await c.aclose()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_unreachable_jwks_is_a_503_not_a_pass(contexts, settings, clock) -> None:
    rsa = t.keypair("RS256")
    clients = apps_with(
        contexts, jwt_algorithms=["RS256"], jwt_jwks_url="http://127.0.0.1:9/jwks.json"
    )
    r = await clients["reporting"].get(
        PROTECTED["reporting"], headers=auth(rsa.sign(t.claims(settings, clock.now())))
    )
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    for c in clients.values():
        await c.aclose()


@pytest.mark.usefixtures("seeded")
async def test_a_token_of_another_trust_finds_nothing(clients, token, embedded) -> None:
    from services.incidents.schemas import EXAMPLE_INCIDENT

    created = await clients["incidents"].post(
        "/v1/incidents", json=EXAMPLE_INCIDENT, headers=auth(token("recorder"))
    )
    iid = created.json()["incident_id"]
    await embedded.pump()
    ours = auth(token("trust_lead"))
    theirs = auth(token("trust_lead", trust="TR00002"))
    paths = {
        "incidents": f"/v1/incidents/{iid}",
        "notifications": f"/v1/incidents/{iid}/parent-reports",
        "reporting": "/v1/trusts/TR00001/summary",
    }
    for svc, path in paths.items():
        assert (await clients[svc].get(path, headers=ours)).status_code == 200, svc
        r = await clients[svc].get(path, headers=theirs)
        assert r.status_code == 404, (svc, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    listed = await clients["incidents"].get("/v1/incidents", headers=theirs)
    assert listed.json()["items"] == []
    feed = await clients["incidents"].get("/v1/events", headers=theirs)
    assert feed.status_code == 200 and feed.json()["items"] == []
    # Another school of the same trust: 404 too.
    other_school = auth(token("recorder", schools=["100002"]))
    assert (
        await clients["incidents"].get(paths["incidents"], headers=other_school)
    ).status_code == 404
