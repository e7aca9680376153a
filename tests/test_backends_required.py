"""With CI=true, a backend that cannot be reached fails the run instead of being left out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_pytest(**env: str) -> subprocess.CompletedProcess[str]:
    """Run one quick test of this suite in a child pytest with ``env``."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("CANDOUR_", "CI"))}
    full.update(env)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_contract.py::test_every_event_type_has_a_schema",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
    )


def test_ci_fails_when_postgres_is_unreachable() -> None:
    # Port 1 on loopback: nothing listens there.
    result = run_pytest(
        CI="true",
        CANDOUR_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:1/postgres",
    )
    assert result.returncode != 0
    assert "cannot be reached" in result.stdout + result.stderr
    assert "PostgreSQL" in result.stdout + result.stderr


def test_without_ci_the_run_says_what_was_left_out() -> None:
    result = run_pytest(
        CANDOUR_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:1/postgres",
        CANDOUR_TEST_REDIS_URL="redis://127.0.0.1:1/0",
    )
    assert "NOT exercised" in result.stdout
    assert "PostgreSQL" in result.stdout and "Redis" in result.stdout
