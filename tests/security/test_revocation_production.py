"""Revocation in the production deployment: relay -> Redis (arq) -> each consumer's worker."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from services.workers import build_worker, run_relay
from tests.support.fixtures import auth

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("seeded")]
FORM = {"grant_type": "client_credentials"}


@pytest.mark.parametrize("backend", ["postgres"])
async def test_revoked_client_is_refused_by_every_service_through_arq(
    clients, token, contexts, settings
) -> None:
    r = aioredis.Redis.from_url(settings.redis_url)
    await r.flushdb()  # this test database's queues start empty
    await r.aclose()
    lead = auth(token("trust_lead"))
    mis = (
        await clients["incidents"].post(
            "/v1/clients",
            json={"name": "MIS", "role": "mis_client", "schools": ["*"]},
            headers=lead,
        )
    ).json()
    portal = (
        await clients["incidents"].post(
            "/v1/clients",
            json={"name": "Portal", "role": "portal_client", "schools": ["*"]},
            headers=lead,
        )
    ).json()
    tokens = {}
    for c in (mis, portal):
        form = {**FORM, "client_id": c["client_id"], "client_secret": c["client_secret"]}
        got = await clients["incidents"].post("/v1/oauth/token", data=form)
        tokens[c["role"]] = auth(got.json()["access_token"])
    checks = {
        "incidents": ("/v1/incidents", tokens["mis_client"]),
        "notifications": ("/v1/events", tokens["mis_client"]),
        "reporting": ("/v1/trusts/TR00001/summary", tokens["portal_client"]),
    }
    for svc, (path, headers) in checks.items():
        assert (await clients[svc].get(path, headers=headers)).status_code == 200, svc

    for c in (mis, portal):
        revoked = await clients["incidents"].post(
            f"/v1/clients/{c['client_id']}/revoke", headers=lead
        )
        assert revoked.status_code == 200
    revoked_at = time.monotonic()
    path, headers = checks["incidents"]
    assert (await clients["incidents"].get(path, headers=headers)).status_code == 401

    assert await run_relay(contexts["incidents"], once=True) >= 2
    for consumer in ("notifications", "reporting"):
        worker = build_worker(contexts[consumer], burst=True)
        try:
            await worker.async_run()
        finally:
            # arq's close() calls a redis-py method deprecated in 5.x; close the pool ourselves.
            await worker.pool.aclose()
        assert worker.jobs_complete >= 2 and worker.jobs_failed == 0, consumer

    for svc in ("notifications", "reporting"):
        path, headers = checks[svc]
        while (await clients[svc].get(path, headers=headers)).status_code != 401:
            assert time.monotonic() - revoked_at < 10, f"{svc} still accepts the client"
            await asyncio.sleep(0.1)
