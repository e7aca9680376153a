"""Rate limits per client (in process and shared through Redis), CORS, security headers."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
import redis.asyncio as aioredis
from fastapi import FastAPI

from services import catalog
from shared.config import Settings
from shared.runtime import ServiceContext
from shared.web import SECURITY_HEADERS
from tests.support.fixtures import auth

SUMMARY = "/v1/trusts/TR00001/summary"


def app_with(ctx: ServiceContext, **overrides: object) -> FastAPI:
    """Another app instance (another worker) on the same database, with other settings."""
    settings = ctx.settings.model_copy(update=overrides)
    return catalog.SPECS[ctx.service].create_app(
        ServiceContext(ctx.service, settings, ctx.db, ctx.clock)
    )


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t"
    )


async def close(*apps: FastAPI) -> None:
    for app in apps:
        if app.state.rate_limiter is not None:
            await app.state.rate_limiter.aclose()


def assert_429(r: httpx.Response, window: int) -> None:
    assert r.status_code == 429, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 429
    assert 1 <= int(r.headers["retry-after"]) <= window


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["sqlite"])
async def test_workers_share_one_count_through_redis(contexts, token, backends) -> None:
    ctx = contexts["reporting"]
    opts = {"redis_url": backends.redis_url, "rate_limit_backend": "redis"}
    one = app_with(ctx, rate_limit_per_minute=5, **opts)
    two = app_with(ctx, rate_limit_per_minute=5, **opts)
    subject = f"rl-{uuid.uuid4()}"
    headers = auth(token("trust_lead", subject=subject))
    async with client_for(one) as a, client_for(two) as b:
        for c in (a, b, a, b, a):
            assert (await c.get(SUMMARY, headers=headers)).status_code == 200
        assert_429(await b.get(SUMMARY, headers=headers), 60)
        assert_429(await a.get(SUMMARY, headers=headers), 60)
        # Another client has its own count.
        other = auth(token("trust_lead", subject=f"rl-{uuid.uuid4()}"))
        assert (await b.get(SUMMARY, headers=other)).status_code == 200
    r = aioredis.Redis.from_url(backends.redis_url)
    try:
        key = f"candour:ratelimit:reporting:TR00001:{subject}"
        assert int(await r.get(key)) == 7
        assert 0 < await r.ttl(key) <= 60  # every window expires
    finally:
        await r.aclose()
    await close(one, two)


@pytest.mark.redis
@pytest.mark.parametrize("backend", ["sqlite"])
async def test_concurrent_requests_on_two_workers_never_exceed_the_limit(
    contexts, token, backends
) -> None:
    ctx = contexts["reporting"]
    opts = {"redis_url": backends.redis_url, "rate_limit_backend": "redis"}
    apps = [app_with(ctx, rate_limit_per_minute=10, **opts) for _ in range(2)]
    headers = auth(token("governor", subject=f"rl-{uuid.uuid4()}"))
    async with client_for(apps[0]) as a, client_for(apps[1]) as b:
        answers = await asyncio.gather(*(c.get(SUMMARY, headers=headers) for c in [a, b] * 12))
    codes = sorted(r.status_code for r in answers)
    assert codes.count(200) == 10 and codes.count(429) == 14
    await close(*apps)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_in_process_limit_and_switching_it_off(contexts, token) -> None:
    ctx = contexts["incidents"]
    limited = app_with(ctx, rate_limit_per_minute=3, rate_limit_window_seconds=30)
    unlimited = app_with(ctx, rate_limit_per_minute=0)
    assert unlimited.state.rate_limiter is None
    headers = auth(token("recorder"))
    async with client_for(limited) as a, client_for(unlimited) as b:
        for _ in range(3):
            assert (await a.get("/v1/incidents", headers=headers)).status_code == 200
        assert_429(await a.get("/v1/incidents", headers=headers), 30)
        for _ in range(10):
            assert (await b.get("/v1/incidents", headers=headers)).status_code == 200
        # The token endpoint counts attempts per client id, so secrets cannot be guessed fast.
        form = {"grant_type": "client_credentials", "client_id": "TR00001-00", "client_secret": "x"}
        codes = [(await a.post("/v1/oauth/token", data=form)).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        # ... and per address, however many client ids it tries.
    other = app_with(ctx, rate_limit_per_minute=3)
    async with client_for(other) as c:
        codes = []
        for i in range(4):
            form = {**form, "client_id": f"TR00001-{i:016x}"}
            codes.append((await c.post("/v1/oauth/token", data=form)).status_code)
        assert codes == [401, 401, 401, 429]


def test_redis_backend_needs_a_redis_url() -> None:
    from shared.ratelimit import limiter_for

    with pytest.raises(ValueError, match="REDIS_URL"):
        limiter_for(Settings(rate_limit_backend="redis"), "incidents")


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_cors_is_closed_unless_configured(contexts, token) -> None:
    ctx = contexts["reporting"]
    preflight = {
        "Origin": "https://portal.example.org",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    closed = app_with(ctx)
    opened = app_with(ctx, cors_origins=["https://portal.example.org"])
    headers = auth(token("trust_lead"))
    async with client_for(closed) as a, client_for(opened) as b:
        r = await a.options(SUMMARY, headers=preflight)
        assert "access-control-allow-origin" not in r.headers
        r = await a.get(SUMMARY, headers={**headers, "Origin": "https://portal.example.org"})
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers

        r = await b.options(SUMMARY, headers=preflight)
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://portal.example.org"
        assert "authorization" in r.headers["access-control-allow-headers"].lower()
        evil = await b.options(SUMMARY, headers={**preflight, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in evil.headers
        r = await b.get(SUMMARY, headers={**headers, "Origin": "https://portal.example.org"})
        assert r.headers["access-control-allow-origin"] == "https://portal.example.org"
        r = await b.get(SUMMARY, headers={**headers, "Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_security_headers_on_every_kind_of_answer(clients, token) -> None:
    protected = {"incidents": "/v1/incidents", "notifications": "/v1/events", "reporting": SUMMARY}
    for svc, client in clients.items():
        answers = [
            await client.get("/healthz"),
            await client.get("/openapi.json"),
            await client.get("/v1/nowhere"),
            await client.get(protected[svc], headers=auth("not-a-token")),
            await client.post("/v1/x", content=b"x" * (1024 * 1024 + 1)),
        ]
        for r in answers:
            for name, value in SECURITY_HEADERS.items():
                assert r.headers.get(name) == value, (svc, r.request.url, name)
        assert answers[3].status_code == 401 and answers[4].status_code == 413
        docs = await client.get("/docs")
        assert docs.status_code == 200
        assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
        assert docs.headers["x-frame-options"] == "DENY"
