"""Test fixtures: real databases (SQLite and PostgreSQL), real Redis, real HTTP through httpx.

PostgreSQL and Redis are used when ``CANDOUR_TEST_DATABASE_URL`` / ``CANDOUR_TEST_REDIS_URL``
are set or the local defaults answer. Without them the suite runs on SQLite alone and says
so loudly; with ``CI=true`` a missing backend fails the run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.support.backends import Backends, detect_backends

BACKENDS: Backends | None = None


def pytest_configure(config: pytest.Config) -> None:
    global BACKENDS
    BACKENDS = asyncio.run(detect_backends())
    if os.environ.get("CI", "").lower() == "true":
        missing = BACKENDS.missing()
        if missing:
            raise pytest.UsageError(
                "CI=true but these backends cannot be reached: " + ", ".join(missing)
            )


def pytest_report_header(config: pytest.Config) -> list[str]:
    assert BACKENDS is not None
    return [BACKENDS.describe()]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Outside CI, tests for an absent backend are deselected (never skipped), and we say so."""
    assert BACKENDS is not None
    keep, drop = [], []
    for item in items:
        needs_pg = item.get_closest_marker("postgres") is not None or "[postgres" in item.name
        needs_redis = item.get_closest_marker("redis") is not None
        if (needs_pg and not BACKENDS.postgres) or (needs_redis and not BACKENDS.redis):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    assert BACKENDS is not None
    terminalreporter.write_sep("=", BACKENDS.describe(), bold=True, yellow=not BACKENDS.complete())


@pytest.fixture(scope="session")
def backends() -> Backends:
    assert BACKENDS is not None
    return BACKENDS


@pytest.fixture
def now() -> datetime:
    """The tests' default 'now': a weekday afternoon in term time."""
    return datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


pytest_plugins = ["tests.support.fixtures"]


@pytest.fixture(autouse=True)
def _no_leaked_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith("CANDOUR_") and not key.startswith("CANDOUR_TEST_"):
            monkeypatch.delenv(key)
    yield
