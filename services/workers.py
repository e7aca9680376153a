"""Production processes: a consumer's arq worker and a producer's relay."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from arq.cron import cron
from arq.worker import Worker, func

from services import catalog
from services.notifications import escalation
from services.notifications import service as notifications
from services.notifications.providers import Provider
from services.notifications.providers import provider_for as notification_provider
from services.reporting import projections
from shared.bus.arq_bus import ArqBus, connect, consume_function, worker_settings
from shared.bus.base import Handler
from shared.config import Settings
from shared.outbox.relay import Relay
from shared.runtime import ServiceContext

log = logging.getLogger("candour.workers")
CONSUMERS = ("notifications", "reporting")


def provider_for(settings: Settings) -> Provider:
    """The message provider configured for notifications."""
    return notification_provider(settings)


def consumer_handler(ctx: ServiceContext, provider: Provider | None = None) -> Handler:
    """The consumer function of a service (the same one both buses call)."""
    if ctx.service == "notifications":
        return notifications.make_consumer(ctx, provider or provider_for(ctx.settings))
    if ctx.service == "reporting":
        return projections.make_consumer(ctx)
    raise ValueError(f"{ctx.service} consumes no events")


def build_worker(
    ctx: ServiceContext, *, burst: bool = False, provider: Provider | None = None
) -> Worker:
    """The arq worker of one consumer, with its sweeper as a cron job."""
    if ctx.service not in CONSUMERS:
        raise ValueError(f"{ctx.service} consumes no events; workers: {', '.join(CONSUMERS)}")
    provider = provider or provider_for(ctx.settings)
    functions: list[Any] = [consume_function(ctx.service, consumer_handler(ctx, provider))]
    cron_jobs = []
    if ctx.service == "notifications":

        async def sweep(_ctx: dict[str, Any]) -> int:
            return await notifications.sweep(ctx, provider)

        async def wake(_ctx: dict[str, Any], trust_id: str, report_id: str) -> int:
            # A wake-up re-reads the database against the clock: early or repeated, harmless.
            return await escalation.run_due(ctx, provider, trust_id, report_id)

        functions.append(func(wake, name=escalation.WAKE_JOB, max_tries=3))  # type: ignore[arg-type]

        sweep.__qualname__ = "notifications.sweep"
        cron_jobs.append(
            cron(
                sweep,  # type: ignore[arg-type]
                name="notifications.sweep",
                second=0,
                run_at_startup=True,
            )
        )

    async def startup(wctx: dict[str, Any]) -> None:
        # Deferred wake-ups are enqueued on the worker's own pool unless one was given.
        if ctx.redis is None:
            ctx.redis = wctx["redis"]

    async def shutdown(_ctx: dict[str, Any]) -> None:
        await ctx.db.dispose()

    return Worker(
        **worker_settings(
            ctx.service,
            ctx.settings.redis_url,
            functions,
            cron_jobs=cron_jobs,
            on_startup=startup,
            on_shutdown=shutdown,
            burst=burst,
        )
    )


async def run_relay(
    ctx: ServiceContext, *, once: bool = False, stop: asyncio.Event | None = None
) -> int:
    """Publish the service's outbox to Redis; loop until stopped, or once."""
    redis = await connect(ctx.settings.redis_url)
    relay = Relay(
        ctx.service,
        ctx.db,
        catalog.SPECS[ctx.service].outbox,
        ArqBus(redis),
        batch_size=ctx.settings.relay_batch_size,
        clock=ctx.clock,
    )
    total = 0
    try:
        while True:
            try:
                total += await relay.drain()
            except Exception:
                log.exception("relay pass failed", extra={"service": ctx.service})
            if once or (stop is not None and stop.is_set()):
                return total
            await asyncio.sleep(ctx.settings.relay_interval_seconds)
    finally:
        await redis.aclose()
