"""The security building blocks on their own: secret hashing, the in-process limiter, JWKS."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import Request

from shared.auth.client_secret import hash_secret, new_secret, verify_secret
from shared.auth.jwks import JwksCache, JwksUnavailable
from shared.guards import json_depth_exceeds
from shared.ratelimit import MemoryRateLimiter


def test_secrets_are_salted_and_verified_in_constant_time_form() -> None:
    secret = new_secret()
    one, two = hash_secret(secret), hash_secret(secret)
    assert one != two  # a salt per secret
    assert secret not in one and one.startswith("scrypt$16384$8$1$")
    assert verify_secret(secret, one) and verify_secret(secret, two)
    assert not verify_secret(secret + "x", one)
    assert not verify_secret("", one)
    for broken in ("", "scrypt$1", "bcrypt$16384$8$1$AA$AA", "scrypt$x$8$1$AA$AA", one + "$"):
        assert not verify_secret(secret, broken)
    assert len({new_secret() for _ in range(50)}) == 50


async def test_memory_limiter_starts_a_new_window() -> None:
    limiter = MemoryRateLimiter(limit=2, window_seconds=1)
    assert [(await limiter.hit("a")).allowed for _ in range(3)] == [True, True, False]
    assert (await limiter.hit("b")).allowed
    denied = await limiter.hit("a")
    assert not denied.allowed and denied.retry_after == 1
    await asyncio.sleep(1.05)
    assert (await limiter.hit("a")).allowed


async def test_unreachable_jwks_without_cached_keys_raises() -> None:
    cache = JwksCache("http://127.0.0.1:9/jwks.json", timeout=1)
    with pytest.raises(JwksUnavailable):
        await cache.keys()


def test_depth_counts_brackets_outside_strings_only() -> None:
    assert not json_depth_exceeds(b'{"a": "' + b"[" * 500 + b'"}')
    assert json_depth_exceeds(b"[" * 65 + b"]" * 65)
    assert not json_depth_exceeds(b"[" * 64 + b"]" * 64)
    assert not json_depth_exceeds(b'{"a": "\\"[[[[' + b"[" * 100 + b'"}')


async def test_redis_limiter_fails_open_when_redis_is_down(caplog) -> None:
    from shared.ratelimit import RedisRateLimiter

    limiter = RedisRateLimiter("redis://127.0.0.1:9/0", limit=1, window_seconds=60)
    try:
        assert all([(await limiter.hit("k")).allowed for _ in range(3)])
    finally:
        await limiter.aclose()
    assert "rate limit unavailable" in caplog.text


async def test_a_path_prefix_keeps_its_own_body_limit() -> None:
    import httpx

    from shared.web import create_service_app

    app = create_service_app(
        "test", title="t", description="d", body_limit=1024, body_limit_overrides={"/bulk": 4096}
    )

    @app.post("/bulk/load")
    @app.post("/small")
    async def load(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/bulk/load", content=b"x" * 3000)).json() == {"bytes": 3000}
        assert (await client.post("/bulk/load", content=b"x" * 5000)).status_code == 413
        assert (await client.post("/small", content=b"x" * 1000)).json() == {"bytes": 1000}
        assert (await client.post("/small", content=b"x" * 1025)).status_code == 413


async def test_guard_stops_when_the_client_leaves_mid_body() -> None:
    from shared.guards import RequestGuard

    called, sent = [], []

    async def app(scope, receive, send) -> None:
        called.append(scope)

    messages = [
        {"type": "http.request", "body": b"{", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive():
        return messages.pop(0)

    async def send(message) -> None:
        sent.append(message)

    scope = {"type": "http", "path": "/x", "raw_path": b"/x", "query_string": b"", "headers": []}
    await RequestGuard(app, limit=1024)(scope, receive, send)
    assert called == [] and sent == []
