"""The production bus on Redis through arq: one queue per consumer, one job per event."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from arq import Retry
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.cron import CronJob
from arq.worker import Function, func
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError

from shared.bus.base import Handler
from shared.bus.subscriptions import consume_job_name, queue_name, subscribers
from shared.events.envelope import EventEnvelope

log = logging.getLogger("candour.bus")


def redis_settings(url: str) -> RedisSettings:
    """arq's settings from a ``redis://`` URL."""
    return RedisSettings.from_dsn(url)


async def connect(url: str) -> ArqRedis:
    """A pool for enqueueing."""
    return await create_pool(redis_settings(url))


class ArqBus:
    """Enqueues ``<consumer>.consume_event`` with job id ``<consumer>:<event_id>``.

    The job id stops a repeat only while the job or its result exists; the consumer's
    inbox is what guarantees an effect happens once.
    """

    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

    async def publish(self, envelope: EventEnvelope) -> None:
        """Enqueue the event for every subscribed consumer."""
        data = envelope.model_dump(mode="json")
        for consumer in subscribers(envelope.type):
            await self.redis.enqueue_job(
                consume_job_name(consumer),
                data,
                _job_id=f"{consumer}:{envelope.event_id}",
                _queue_name=queue_name(consumer),
            )


class TransientError(Exception):
    """A fault worth retrying (a database or provider that did not answer)."""


def consume_function(consumer: str, handler: Handler, max_tries: int = 10) -> Function:
    """The arq job that validates an envelope and hands it to the consumer."""

    async def consume_event(ctx: dict[str, Any], data: dict[str, Any]) -> str:
        envelope = EventEnvelope.model_validate(data)
        tries = int(ctx.get("job_try", 1))
        try:
            await handler(envelope)
        except IntegrityError as exc:
            # Two events of one subject applied at once by concurrent jobs: the loser's
            # transaction rolled back whole (its inbox row too), so it is simply run again.
            log.info(
                "consumer conflict; retrying",
                extra={"event_id": str(envelope.event_id), "try": tries},
            )
            raise Retry(defer=min(5.0, 0.2 * tries)) from exc
        except (TransientError, OSError, TimeoutError, OperationalError, InterfaceError) as exc:
            log.warning(
                "consumer failed; retrying",
                extra={
                    "event_id": str(envelope.event_id),
                    "try": tries,
                    "error": type(exc).__name__,
                },
            )
            raise Retry(defer=min(60, 2**tries)) from exc
        return str(envelope.event_id)

    return func(consume_event, name=consume_job_name(consumer), max_tries=max_tries)


def worker_settings(
    consumer: str,
    redis_url: str,
    functions: Sequence[Function | Callable[..., Awaitable[Any]]],
    *,
    cron_jobs: Sequence[CronJob] = (),
    on_startup: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    on_shutdown: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    burst: bool = False,
) -> dict[str, Any]:
    """Keyword arguments for ``arq.worker.Worker`` for one consumer's queue."""
    return {
        "functions": list(functions),
        "queue_name": queue_name(consumer),
        "redis_settings": redis_settings(redis_url),
        "cron_jobs": list(cron_jobs),
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "burst": burst,
        "keep_result": 3600,
        "handle_signals": not burst,
        "max_jobs": 20,
    }
