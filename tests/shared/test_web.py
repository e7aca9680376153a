"""Every service answers errors as problem+json, limits bodies and sets security headers."""

from __future__ import annotations

import gc
import logging

import httpx
import pytest
from fastapi import APIRouter

from shared.config import Settings
from shared.db.engine import Database
from shared.runtime import ServiceContext
from shared.web import assemble_app
from tests.support.fixtures import auth

# The web layer does not depend on the database backend: SQLite is enough here.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@sqlite_only
async def test_unparseable_body_is_400(clients, token) -> None:
    r = await clients["incidents"].post(
        "/v1/incidents",
        content=b'{"school_urn": ',
        headers={**auth(token("recorder")), "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["title"] == "Bad request"


@sqlite_only
async def test_field_errors_are_422_with_pointers(clients, token) -> None:
    r = await clients["incidents"].post(
        "/v1/incidents",
        json={"school_urn": "12", "occurred_at": "yesterday"},
        headers=auth(token("recorder")),
    )
    assert r.status_code == 422
    pointers = {e["pointer"] for e in r.json()["errors"]}
    assert {"/school_urn", "/occurred_at"} <= pointers


@sqlite_only
async def test_bodies_over_a_mebibyte_are_413(clients, token) -> None:
    big = b"x" * (1024 * 1024 + 1)
    headers = {**auth(token("recorder")), "content-type": "application/json"}
    r = await clients["incidents"].post("/v1/incidents", content=big, headers=headers)
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/problem+json"

    async def stream():
        for _ in range(17):
            yield b"x" * 65536

    r = await clients["incidents"].post("/v1/incidents", content=stream(), headers=headers)
    assert r.status_code == 413


@sqlite_only
async def test_unknown_route_and_method_are_problems(clients) -> None:
    r = await clients["reporting"].get("/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = await clients["reporting"].delete("/healthz")
    assert r.status_code == 405 and r.headers["content-type"] == "application/problem+json"


@sqlite_only
async def test_security_headers_and_request_id(clients) -> None:
    r = await clients["incidents"].get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    r = await clients["incidents"].get("/healthz", headers={"X-Request-ID": "<script>"})
    assert r.headers["x-request-id"] != "<script>"


@sqlite_only
async def test_metrics_and_health(clients) -> None:
    for client in clients.values():
        assert (await client.get("/healthz")).json()["status"] == "ok"
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    await clients["incidents"].get("/healthz")
    metrics = await clients["incidents"].get("/metrics")
    assert "candour_http_requests_total" in metrics.text


async def test_readyz_is_503_when_the_database_is_gone() -> None:
    settings = Settings(env="test", jwt_secret="s" * 40, link_secret="l" * 40)
    # Nothing listens on port 1: the database "is gone".
    broken = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    ctx = ServiceContext("incidents", settings, broken)
    app = assemble_app("incidents", ctx, settings, title="t", description="d", routers=[])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"].startswith("unavailable")
    await broken.dispose()


@sqlite_only
async def test_unexpected_errors_are_problems_with_an_error_id(caplog, contexts) -> None:
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret detail parent@example.org")

    ctx = contexts["incidents"]
    app = assemble_app("incidents", ctx, ctx.settings, title="t", description="d", routers=[router])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="candour.errors"):
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            r = await c.get("/boom")
    assert r.status_code == 500
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert "secret detail" not in r.text
    assert body["error_id"] and body["title"] == "Internal error"
    assert any(getattr(rec, "error_id", None) == body["error_id"] for rec in caplog.records)


@sqlite_only
async def test_start_moves_what_the_process_built_out_of_the_collector(contexts) -> None:
    """A served app freezes its start-up objects, so the collector's full passes (which
    would otherwise walk every module, table and schema) stay out of requests."""
    ctx = contexts["incidents"]
    app = assemble_app("incidents", ctx, ctx.settings, title="t", description="d", routers=[])
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
