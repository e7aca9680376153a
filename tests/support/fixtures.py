"""Shared fixtures: per-test databases on each backend, apps, clients, tokens, the embedded bus."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from services import catalog, demo
from services.notifications.providers import DevFileProvider
from services.workers import consumer_handler
from shared.auth.jwt import issue_token
from shared.bus.embedded import EmbeddedBus
from shared.clock import FrozenClock
from shared.config import SERVICES, Settings
from shared.db.engine import Database
from shared.outbox.relay import Relay
from shared.runtime import ServiceContext
from tests.support.backends import Backends

TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef"


def _pg_url(base: str, dbname: str) -> str:
    head, _, _ = base.rpartition("/")
    return f"{head}/{dbname}"


@pytest.fixture(scope="session")
def pg_databases(backends: Backends) -> dict[str, str]:
    """One migrated PostgreSQL database per service for this test session."""
    if not backends.postgres:
        return {}
    import asyncpg

    suffix = os.getpid()
    names = {svc: f"candour_test_{svc}_{suffix}" for svc in SERVICES}

    async def _create() -> None:
        admin = await asyncpg.connect(backends.postgres_url.replace("+asyncpg", ""))
        try:
            for name in names.values():
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        for svc, name in names.items():
            db = Database(_pg_url(backends.postgres_url, name))
            ctx = ServiceContext(svc, Settings(env="dev"), db)
            await catalog.migrate(ctx)
            await db.dispose()

    asyncio.run(_create())
    return {svc: _pg_url(backends.postgres_url, name) for svc, name in names.items()}


@pytest.fixture
def clock(now: datetime) -> FrozenClock:
    return FrozenClock(now)


@pytest.fixture
def settings(tmp_path: Path, backends: Backends) -> Settings:
    return Settings(
        env="test",
        jwt_secret=TEST_SECRET,
        link_secret=TEST_SECRET + "-links",
        var_dir=tmp_path / "var",
        redis_url=backends.redis_url if backends.redis else "",
        # Each test's apps count requests in process; the Redis limiter has its own tests.
        rate_limit_backend="memory",
    )


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    """Run the test once on each database backend."""
    return str(request.param)


async def _truncate(db: Database, service: str) -> None:
    metadata = catalog.SPECS[service].outbox.metadata
    names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    async with db.transaction() as conn:
        await conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def contexts(
    backend: str, settings: Settings, clock: FrozenClock, pg_databases: dict[str, str]
) -> AsyncIterator[dict[str, ServiceContext]]:
    """A fresh, migrated database per service on ``backend``, and a frozen clock."""
    ctxs: dict[str, ServiceContext] = {}
    if backend == "postgres":
        for svc in SERVICES:
            db = Database(pg_databases[svc], pool_size=5, max_overflow=5)
            await _truncate(db, svc)
            ctxs[svc] = ServiceContext(svc, settings, db, clock)
    else:
        for svc in SERVICES:
            db = Database(f"sqlite+aiosqlite:///{settings.var_dir / (svc + '.db')}")
            ctx = ServiceContext(svc, settings, db, clock)
            await catalog.migrate(ctx)
            ctxs[svc] = ctx
    yield ctxs
    for ctx in ctxs.values():
        await ctx.db.dispose()


@pytest.fixture
def apps(contexts: dict[str, ServiceContext]) -> dict[str, FastAPI]:
    return {svc: catalog.SPECS[svc].create_app(ctx) for svc, ctx in contexts.items()}


@pytest.fixture
async def clients(apps: dict[str, FastAPI]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """An httpx client per service, speaking HTTP to the app in process."""
    out = {
        svc: httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
            base_url=f"http://{svc}.test",
        )
        for svc, app in apps.items()
    }
    yield out
    for client in out.values():
        await client.aclose()


TokenFactory = Callable[..., str]


@pytest.fixture
def token(settings: Settings, clock: FrozenClock) -> TokenFactory:
    """``token(role, trust=..., schools=[...])`` signed with the test secret."""

    def make(
        role: str,
        trust: str = demo.DEMO_TRUST,
        schools: list[str] | None = None,
        ttl: timedelta = timedelta(hours=1),
        **kw: Any,
    ) -> str:
        return issue_token(
            settings, role=role, trust_id=trust, schools=schools, ttl=ttl, now=clock.now(), **kw
        )

    return make


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class EmbeddedSystem:
    """The in-process bus wired to both consumers, with relays for every producer."""

    def __init__(self, contexts: dict[str, ServiceContext], outbox_dir: Path) -> None:
        self.contexts = contexts
        self.provider = DevFileProvider(outbox_dir)
        self.outbox_dir = outbox_dir
        self.bus = EmbeddedBus()
        for consumer in ("notifications", "reporting"):
            self.bus.subscribe(consumer, consumer_handler(contexts[consumer], self.provider))
        self.relays = [
            Relay(svc, ctx.db, catalog.SPECS[svc].outbox, self.bus, clock=ctx.clock)
            for svc, ctx in contexts.items()
        ]

    async def pump(self) -> int:
        """Relay until no service has anything left to publish."""
        total = 0
        while True:
            n = 0
            for relay in self.relays:
                n += await relay.drain()
            total += n
            if n == 0:
                return total

    def messages(self) -> list[Path]:
        return sorted(self.outbox_dir.glob("*")) if self.outbox_dir.exists() else []


@pytest.fixture
async def seeded(contexts: dict[str, ServiceContext]) -> dict[str, ServiceContext]:
    """The demo trust in the incidents and notifications databases."""
    assert await demo.seed_incidents(contexts["incidents"])
    await demo.seed_notifications(contexts["notifications"])
    return contexts


@pytest.fixture
def embedded(contexts: dict[str, ServiceContext], settings: Settings) -> EmbeddedSystem:
    return EmbeddedSystem(contexts, settings.outbox_dir)
