"""Production mode as an operator runs it: separate `candour` processes on PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from redis import Redis

from services.incidents.schemas import EXAMPLE_INCIDENT
from tests.e2e.test_embedded_process import free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]
BIN = Path(sys.executable).parent
SECRET = "production-test-secret-0123456789abcdef"


@pytest.fixture
def production_env(backends, tmp_path):  # type: ignore[no-untyped-def]
    base = backends.postgres_url.replace("+asyncpg", "")
    head = base.rpartition("/")[0]
    names = {
        svc: f"candour_prod_{svc}_{os.getpid()}"
        for svc in ("incidents", "notifications", "reporting")
    }

    async def recreate(drop_only: bool = False) -> None:
        admin = await asyncpg.connect(base)
        try:
            for name in names.values():
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                if not drop_only:
                    await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()

    asyncio.run(recreate())
    redis_url = backends.redis_url.rsplit("/", 1)[0] + "/8"
    Redis.from_url(redis_url).flushdb()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANDOUR_")}
    env.update(
        {
            "CANDOUR_ENV": "production",
            "CANDOUR_JWT_SECRET": SECRET,
            "CANDOUR_LINK_SECRET": SECRET + "-links",
            "CANDOUR_REDIS_URL": redis_url,
            "CANDOUR_VAR_DIR": str(tmp_path / "var"),
            "CANDOUR_WORKERS": "2",
        }
    )
    for svc, name in names.items():
        env[f"CANDOUR_{svc.upper()}_DATABASE_URL"] = (
            f"{head.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
        )
    yield env
    Redis.from_url(redis_url).flushdb()
    asyncio.run(recreate(drop_only=True))


def candour(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    out = subprocess.run(
        [str(BIN / "candour"), *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_operator_runs_each_process(production_env, tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = production_env
    # A default secret is refused outside dev.
    default_secret = {**env, "CANDOUR_JWT_SECRET": "candour-dev-secret-change-me"}
    refused = subprocess.run(
        [str(BIN / "candour"), "migrate"], capture_output=True, text=True, env=default_secret
    )
    assert refused.returncode != 0 and "CANDOUR_JWT_SECRET" in refused.stderr

    assert "incidents: migrated" in candour(env, "migrate")
    assert "seeded TR00001" in candour(env, "seed", "dev")
    assert "already seeded" in candour(env, "seed", "dev")

    ports = {svc: free_port() for svc in ("incidents", "reporting")}
    apis = [
        subprocess.Popen(
            [str(BIN / "candour"), "api", svc, "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for svc, port in ports.items()
    ]
    try:
        for port in ports.values():
            wait_for(
                lambda port=port: httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200,
                timeout=60,
            )
        recorder = candour(env, "token", "--role", "recorder").strip()
        r = httpx.post(
            f"http://127.0.0.1:{ports['incidents']}/v1/incidents",
            json=EXAMPLE_INCIDENT,
            headers={"Authorization": f"Bearer {recorder}"},
        )
        assert r.status_code == 201, r.text

        published = candour(env, "relay", "incidents", "--once")  # the demo registry and history
        assert int(published.split()[1]) >= 17, published
        candour(env, "worker", "notifications", "--burst")
        outbox = tmp_path / "var" / "outbox"
        assert len(list(outbox.glob("*.eml"))) == 2  # the new incident only; history sends nothing
        published = candour(env, "relay", "notifications", "--once")
        assert int(published.split()[1]) >= 2, published  # sent per parent, delivered, completed
        candour(env, "worker", "reporting", "--burst")

        lead = candour(env, "token", "--role", "trust_lead").strip()
        summary = httpx.get(
            f"http://127.0.0.1:{ports['reporting']}/v1/trusts/TR00001/summary",
            headers={"Authorization": f"Bearer {lead}"},
        ).json()
        assert summary["incidents"]["total"]["count"] == 13
        assert summary["parent_reports_sent"]["count"] == 2
    finally:
        for proc in apis:
            proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in apis:
            try:
                proc.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
