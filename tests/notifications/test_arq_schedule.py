"""Each step is an arq deferred wake-up AND found by the sweeper: losing Redis loses nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from arq.connections import create_pool

from services.notifications import escalation
from services.workers import build_worker
from shared.bus.arq_bus import redis_settings
from shared.bus.subscriptions import queue_name
from tests.notifications.conftest import (
    BOUNCE,
    SCHOOL,
    add_people,
    consume,
    incident_event,
    messages,
    steps,
)
from tests.notifications.test_escalation import local
from tests.support.fixtures import auth

pytestmark = [
    pytest.mark.redis,
    # arq 0.28 closes its pool with redis-py's deprecated close().
    pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"),
]


@pytest.fixture
async def redis(settings):
    pool = await create_pool(redis_settings(settings.redis_url))
    await pool.flushdb()
    yield pool
    await pool.flushdb()
    await pool.aclose()


async def burst(ctx, provider) -> None:
    """Run a burst worker until the queue is empty."""
    worker = build_worker(ctx, burst=True, provider=provider)
    try:
        await worker.main()
    finally:
        await worker.close()


async def deferred(redis) -> dict[str, datetime]:
    """The wake-ups waiting in arq: step -> the time each was deferred to."""
    jobs = await redis.queued_jobs(queue_name=queue_name("notifications"))
    out = {}
    for job in jobs:
        assert job.function == escalation.WAKE_JOB
        step = job.job_id.split(":")[-2]
        out[step] = datetime.fromtimestamp(job.score / 1000, UTC)
    return out


async def test_steps_are_deferred_jobs_and_a_burst_worker_runs_what_is_due(
    notif, provider, clock, redis
):
    notif.redis = redis
    clock.set(local("2026-11-27", 10))
    await add_people(notif, email=f"jo@{BOUNCE}", second=True)
    await consume(notif, provider, incident_event(local("2026-11-27", 10)))
    jobs = await deferred(redis)
    expected = {
        "next_contact": local("2026-11-27", 11),
        "alert_dsl": local("2026-11-27", 16, 30),
        "alert_trust": local("2026-11-27", 18),
        "deadline": local("2026-11-28", 0),
    }
    assert {k: jobs[k] for k in expected} == expected
    plan = await steps(notif)
    # Every wake-up is deferred to its step's time; those of steps already run (the
    # fallback, due at once when the email bounced) will find nothing to do.
    assert all(jobs[k] == plan[k].due_at for k in jobs)
    assert {k for k in jobs if plan[k].status == "due"} == set(expected)
    # The wake-ups are in the past by real time, so the burst worker runs them all now;
    # each re-reads the database against the clock and does only what is due at 16:30.
    clock.set(local("2026-11-27", 16, 30))
    notif.redis = None
    await burst(notif, provider)
    plan = await steps(notif)
    assert plan["alert_dsl"].status == "done" and plan["next_contact"].status == "done"
    assert plan["alert_trust"].status == "due" and plan["deadline"].status == "due"
    assert {m.recipient_ref for m in await messages(notif, step="alert_dsl")} == {
        "dsl:s-dsl",
        "head:s-head",
    }


async def test_redis_flushed_mid_afternoon_every_escalation_fires_within_a_minute(
    notif, provider, clock, redis
):
    notif.redis = redis
    clock.set(local("2026-11-27", 10))
    await add_people(notif, email=f"jo@{BOUNCE}")
    await consume(notif, provider, incident_event(local("2026-11-27", 10)))
    assert {"alert_dsl", "alert_trust", "deadline"} <= set(await deferred(redis))
    clock.set(local("2026-11-27", 14, 0, 17))
    await redis.flushdb()
    assert await deferred(redis) == {}
    notif.redis = None
    # From here only the sweeper, once a minute, as the worker's cron job runs it.
    end = local("2026-11-28", 8, 30)
    while clock.now() < end:
        clock.advance(seconds=60)
        await escalation.sweep(notif, provider)
    plan = await steps(notif)
    fired = {k: v for k, v in plan.items() if k in ("alert_dsl", "alert_trust", "deadline")}
    fired.update({k: v for k, v in plan.items() if k.startswith("pursue:") and v.due_at <= end})
    assert plan["pursue:2026-11-29"].status == "due"  # and the pursuit goes on
    assert set(fired) == {"alert_dsl", "alert_trust", "deadline", "pursue:2026-11-28"}
    for name, step in fired.items():
        assert step.status == "done", name
        assert timedelta(0) <= step.done_at - step.due_at < timedelta(seconds=60), name
    assert {m.step for m in await messages(notif, recipient_kind="staff")} == {
        "alert_dsl",
        "alert_trust",
        "pursue:2026-11-28",
    }


async def test_events_through_redis_to_a_burst_worker_once_per_parent(
    notif, provider, clock, redis, smtp
):
    from shared.bus.arq_bus import ArqBus

    box, _ = smtp
    clock.set(local("2026-11-27", 10))
    await add_people(notif)
    event = incident_event(local("2026-11-27", 10))
    bus = ArqBus(redis)
    for _ in range(3):
        await bus.publish(event)
    worker = build_worker(notif, burst=True, provider=provider)
    try:
        await worker.main()
        # The same event again after its job (and result) expired from Redis: the inbox
        # still makes it a no-op.
        await redis.flushdb()
        await bus.publish(event)
        await worker.main()
    finally:
        await worker.close()
    assert len([x for x in box.messages if "parent@" in x[1][0]]) == 1
    assert len(await messages(notif, channel="sms")) == 1
    plan = await steps(notif)
    assert plan["initial"].status == "done" and plan["alert_dsl"].status == "skipped"


async def test_a_decision_wakes_its_report_at_once_not_at_the_next_sweep(
    notif, provider, clock, redis, clients, token
):
    """A resend (like a release or an approval) enqueues the report's due steps as arq
    wake-ups once the decision is committed: a worker sends it now."""
    clock.set(local("2026-11-27", 10))
    await add_people(notif)
    await consume(notif, provider, incident_event(local("2026-11-27", 10)))
    [report_id] = {m.report_id for m in await messages(notif, recipient_kind="parent")}
    notif.redis = redis
    await redis.flushdb()
    clock.set(local("2026-11-27", 12))
    r = await clients["notifications"].post(
        f"/v1/parent-reports/{report_id}/resend",
        headers=auth(token("school_lead", schools=[SCHOOL])),
    )
    assert r.status_code == 202, r.text
    step = r.json()["step"]
    jobs = await redis.queued_jobs(queue_name=queue_name("notifications"))
    assert [j.function for j in jobs if f":{report_id}:{step}:" in j.job_id] == [
        escalation.WAKE_JOB
    ]
    notif.redis = None
    await burst(notif, provider)
    assert {m.recipient_ref for m in await messages(notif, step=step)} >= {"c1"}


async def test_a_served_notifications_app_opens_its_enqueue_pool(settings, tmp_path):
    """Served with CANDOUR_REDIS_URL, the app enqueues through its own arq pool (closed at
    shutdown); with Redis unreachable it still starts, and the sweeper does the work."""
    from services.notifications.main import create_app

    app = create_app(settings=settings)
    async with app.router.lifespan_context(app):
        ctx = app.state.ctx
        assert ctx.redis is not None and await ctx.redis.ping()
        assert (await ctx.readiness())["redis"] == "ok"
    assert app.state.ctx.redis is None
    down = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    app = create_app(settings=down)
    async with app.router.lifespan_context(app):
        assert app.state.ctx.redis is None
