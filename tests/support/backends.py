"""Which real backends this run can reach."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/9"


@dataclass(frozen=True)
class Backends:
    postgres_url: str
    redis_url: str
    postgres: bool
    redis: bool

    def missing(self) -> list[str]:
        out = []
        if not self.postgres:
            out.append(f"PostgreSQL ({self.postgres_url})")
        if not self.redis:
            out.append(f"Redis ({self.redis_url})")
        return out

    def complete(self) -> bool:
        return self.postgres and self.redis

    def describe(self) -> str:
        ran = ["SQLite"]
        if self.postgres:
            ran.append("PostgreSQL")
        if self.redis:
            ran.append("Redis")
        text = "Candour backends exercised: " + ", ".join(ran)
        if not self.complete():
            text += " -- NOT exercised: " + ", ".join(self.missing())
        return text


async def _pg_ok(url: str) -> bool:
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncpg.connect(dsn, timeout=3)
    except Exception:
        return False
    await conn.close()
    return True


async def _redis_ok(url: str) -> bool:
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=2)
    try:
        return bool(await client.ping())
    except Exception:
        return False
    finally:
        await client.aclose()


async def detect_backends() -> Backends:
    pg = os.environ.get("CANDOUR_TEST_DATABASE_URL") or DEFAULT_PG
    if pg.startswith("postgresql://"):
        pg = pg.replace("postgresql://", "postgresql+asyncpg://", 1)
    redis = os.environ.get("CANDOUR_TEST_REDIS_URL") or DEFAULT_REDIS
    return Backends(pg, redis, await _pg_ok(pg), await _redis_ok(redis))
