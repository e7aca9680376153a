"""A fixed-window rate limit per client: in process, or shared by every worker through Redis.

Each window starts with a client's first request in it and lasts
``CANDOUR_RATE_LIMIT_WINDOW_SECONDS``; the Redis count and its expiry are set by one Lua
script, so concurrent workers never lose an increment or leave a key without expiry.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from shared.config import Settings

log = logging.getLogger("candour.ratelimit")


@dataclass(frozen=True)
class Decision:
    """The outcome of counting one request."""

    allowed: bool
    count: int
    limit: int
    retry_after: int  # whole seconds until the window ends


class RateLimiter(Protocol):
    """Counts requests per key."""

    async def hit(self, key: str) -> Decision:
        """Count one request for ``key``."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...


class MemoryRateLimiter:
    """Counts in this process only (embedded mode, one worker)."""

    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit = limit
        self.window = window_seconds
        self._windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str) -> Decision:
        """Count one request for ``key``."""
        now = time.monotonic()
        started, count = self._windows.get(key, (now, 0))
        if now - started >= self.window:
            started, count = now, 0
        count += 1
        if len(self._windows) > 100_000:  # bound memory: drop every stale window
            self._windows = {k: v for k, v in self._windows.items() if now - v[0] < self.window}
        self._windows[key] = (started, count)
        retry = max(1, math.ceil(self.window - (now - started)))
        return Decision(count <= self.limit, count, self.limit, retry)

    async def aclose(self) -> None:
        """Nothing to release."""


# INCR, and on the window's first request set its expiry; answer the count and the ms left.
_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class RedisRateLimiter:
    """Counts in Redis, so every worker of every replica shares one count per client."""

    def __init__(
        self, url: str, limit: int, window_seconds: int, prefix: str = "candour:ratelimit"
    ) -> None:
        self.url = url
        self.limit = limit
        self.window = window_seconds
        self.prefix = prefix
        self._redis: Any = None
        self._script: Any = None

    async def hit(self, key: str) -> Decision:
        """Count one request for ``key``."""
        from redis.exceptions import RedisError

        if self._redis is None:
            from redis.asyncio import Redis

            self._redis = Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
            self._script = self._redis.register_script(_SCRIPT)
        try:
            count, ttl_ms = await self._script(
                keys=[f"{self.prefix}:{key}"], args=[self.window * 1000]
            )
        except (RedisError, OSError) as exc:
            # Fail open: recording an incident matters more than counting requests.
            log.warning("rate limit unavailable", extra={"error": type(exc).__name__})
            return Decision(True, 0, self.limit, 0)
        retry = max(1, math.ceil(int(ttl_ms) / 1000))
        return Decision(int(count) <= self.limit, int(count), self.limit, retry)

    async def aclose(self) -> None:
        """Close the Redis connection pool."""
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


def limiter_for(settings: Settings, service: str) -> RateLimiter | None:
    """The configured limiter of one service, or None when the limit is off."""
    if settings.rate_limit_per_minute <= 0:
        return None
    backend = settings.rate_limit_backend
    if backend == "auto":
        backend = "redis" if settings.redis_url else "memory"
    if backend == "redis":
        if not settings.redis_url:
            raise ValueError("CANDOUR_RATE_LIMIT_BACKEND=redis needs CANDOUR_REDIS_URL")
        return RedisRateLimiter(
            settings.redis_url,
            settings.rate_limit_per_minute,
            settings.rate_limit_window_seconds,
            prefix=f"candour:ratelimit:{service}",
        )
    return MemoryRateLimiter(settings.rate_limit_per_minute, settings.rate_limit_window_seconds)
