"""`candour dev` as a newcomer runs it: a real process, real sockets, real files."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check, timeout: float, interval: float = 0.1):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(interval)


@pytest.fixture
def dev_process(tmp_path: Path):  # type: ignore[no-untyped-def]
    ports = {svc: free_port() for svc in ("incidents", "notifications", "reporting")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("CANDOUR_")}
    env.update({f"CANDOUR_{svc.upper()}_PORT": str(p) for svc, p in ports.items()})
    env["CANDOUR_VAR_DIR"] = str(tmp_path / "var")
    log = (tmp_path / "dev.log").open("wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(BIN / "candour"), "dev"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path
    )
    try:
        yield proc, ports, env, tmp_path, started
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()


def test_make_run_path(dev_process) -> None:  # type: ignore[no-untyped-def]
    proc, ports, env, tmp_path, started = dev_process
    for svc, port in ports.items():
        ready = wait_for(
            lambda port=port: (
                httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
            ),
            timeout=60,
        )
        assert ready, svc
    assert time.monotonic() - started < 60
    banner = (tmp_path / "dev.log").read_text(errors="replace")
    assert f"http://127.0.0.1:{ports['incidents']}" in banner and "trust_lead:" in banner

    def cli_token(role: str) -> str:
        out = subprocess.run(
            [str(BIN / "candour"), "token", "--role", role],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            cwd=tmp_path,
        )
        return out.stdout.strip()

    inc = f"http://127.0.0.1:{ports['incidents']}"
    rep = f"http://127.0.0.1:{ports['reporting']}"
    lead = {"Authorization": f"Bearer {cli_token('trust_lead')}"}
    spec = httpx.get(f"{inc}/openapi.json").json()
    post = spec["paths"]["/v1/incidents"]["post"]["requestBody"]["content"]["application/json"]
    example = post["examples"]["complete"]["value"]

    # The demo history reaches reporting first (and sends nothing).
    def summary_total() -> int | None:
        r = httpx.get(f"{rep}/v1/trusts/TR00001/summary", headers=lead, timeout=2)
        return r.json()["incidents"]["total"]["count"] if r.status_code == 200 else None

    before = wait_for(summary_total, timeout=10)
    outbox = tmp_path / "var" / "outbox"
    assert not outbox.exists() or not any(outbox.iterdir())

    sent_at = time.monotonic()
    r = httpx.post(
        f"{inc}/v1/incidents",
        json=example,
        headers={"Authorization": f"Bearer {cli_token('recorder')}"},
    )
    assert r.status_code == 201, r.text
    files = wait_for(lambda: outbox.exists() and sorted(outbox.iterdir()), timeout=5)
    assert any(f.suffix == ".eml" for f in files)
    wait_for(lambda: summary_total() == before + 1, timeout=5)
    assert time.monotonic() - sent_at < 5

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    log = (tmp_path / "dev.log").read_text(errors="replace")
    for line in log.splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            assert entry["level"] != "error", entry
    assert "parents.example.org" not in log and "+447700900" not in log
