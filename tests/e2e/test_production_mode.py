"""The thin path in production mode: PostgreSQL, Redis, the relays and real arq workers."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from services import catalog
from services.incidents.schemas import EXAMPLE_INCIDENT
from services.notifications.providers import DevFileProvider
from services.workers import build_worker
from shared.bus.arq_bus import ArqBus, connect
from shared.bus.subscriptions import queue_name
from shared.outbox.relay import Relay
from tests.support.fixtures import auth

pytestmark = [
    pytest.mark.redis,
    pytest.mark.parametrize("backend", ["postgres"], indirect=True),
    pytest.mark.usefixtures("seeded"),
]


@pytest.fixture
async def redis(settings):
    client = Redis.from_url(settings.redis_url)
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.aclose()


async def run_worker(ctx, provider) -> int:
    worker = build_worker(ctx, burst=True, provider=provider)
    try:
        await worker.async_run()
    finally:
        await worker.close()
    return worker.jobs_complete


async def relay(ctx, pool) -> int:
    return await Relay(ctx.service, ctx.db, catalog.SPECS[ctx.service].outbox, ArqBus(pool)).drain()


async def test_thin_path_through_redis_and_arq(contexts, clients, token, settings, redis) -> None:
    provider = DevFileProvider(settings.outbox_dir)
    pool = await connect(settings.redis_url)
    try:
        # The demo registry and history first (4 schools, staff, 12 historic incidents):
        # one job per event per subscribed consumer, on each consumer's own queue.
        published = await relay(contexts["incidents"], pool)
        assert published >= 16
        assert await redis.zcard(queue_name("notifications")) >= 12
        assert await redis.zcard(queue_name("reporting")) >= 16
        await run_worker(contexts["notifications"], provider)
        await run_worker(contexts["reporting"], provider)
        assert not settings.outbox_dir.exists() or not list(settings.outbox_dir.iterdir())

        r = await clients["incidents"].post(
            "/v1/incidents", json=EXAMPLE_INCIDENT, headers=auth(token("recorder"))
        )
        assert r.status_code == 201, r.text
        iid = r.json()["incident_id"]

        assert await relay(contexts["incidents"], pool) == 1
        # Relaying again publishes nothing; re-enqueueing the same event is refused by job id.
        assert await relay(contexts["incidents"], pool) == 0
        assert await run_worker(contexts["notifications"], provider) >= 1
        files = sorted(settings.outbox_dir.iterdir())
        assert len([f for f in files if f.suffix == ".eml"]) == 2  # two parents of DEMO-0001
        assert len([f for f in files if f.suffix == ".txt"]) == 2

        # parent_report.sent for each parent, then its delivery and completion events.
        assert await relay(contexts["notifications"], pool) >= 2
        await run_worker(contexts["reporting"], provider)

        lead = auth(token("trust_lead"))
        summary = (
            await clients["reporting"].get("/v1/trusts/TR00001/summary", headers=lead)
        ).json()
        assert summary["incidents"]["total"]["count"] == 13
        assert summary["parent_reports_sent"]["count"] == 2
        reports = await clients["notifications"].get(
            f"/v1/incidents/{iid}/parent-reports", headers=lead
        )
        assert [r["status"] for r in reports.json()] == ["sent", "sent"]
    finally:
        await pool.aclose()


async def test_redelivered_job_changes_nothing(contexts, clients, token, settings, redis) -> None:
    """A job id lasts only while its result does: the inbox is what makes a repeat harmless."""
    provider = DevFileProvider(settings.outbox_dir)
    pool = await connect(settings.redis_url)
    try:
        published = await relay(contexts["incidents"], pool)
        await run_worker(contexts["notifications"], provider)
        r = await clients["incidents"].post(
            "/v1/incidents", json=EXAMPLE_INCIDENT, headers=auth(token("recorder"))
        )
        assert r.status_code == 201
        await relay(contexts["incidents"], pool)
        await run_worker(contexts["notifications"], provider)
        before = sorted(settings.outbox_dir.iterdir())
        # Forget every job and result, then publish the same events again, three times.
        for _ in range(3):
            await redis.flushdb()
            async with contexts["incidents"].db.transaction() as conn:
                outbox = catalog.SPECS["incidents"].outbox
                await conn.execute(outbox.update().values(published_at=None))
            assert await relay(contexts["incidents"], pool) == published + 1
            await run_worker(contexts["notifications"], provider)
        assert sorted(settings.outbox_dir.iterdir()) == before
    finally:
        await pool.aclose()
