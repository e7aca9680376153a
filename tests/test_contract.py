"""The published contract and the code's own rules stay true."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from services import openapi

ROOT = Path(__file__).resolve().parent.parent


def test_committed_openapi_matches_the_apps() -> None:
    stale = openapi.drift()
    assert stale == [], f"openapi/ drifted from the apps; run `make openapi`: {stale}"


def test_every_event_type_has_a_schema() -> None:
    from shared.events.registry import EVENT_TYPES

    for event_type in EVENT_TYPES:
        assert (ROOT / "openapi" / "events" / f"{event_type}.json").exists()


def test_incident_example_is_a_complete_submission() -> None:
    import json

    doc = json.loads((ROOT / "openapi" / "incidents.json").read_text())
    body = doc["paths"]["/v1/incidents"]["post"]["requestBody"]["content"]["application/json"]
    example = body["examples"]["complete"]["value"]
    schema_ref = body["schema"]["$ref"].rsplit("/", 1)[-1]
    schema = doc["components"]["schemas"][schema_ref]
    assert set(schema.get("required", [])) <= set(example)
    assert {"ended_at", "summary", "intervention_type"} <= set(example)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_ruff_lint_and_format() -> None:
    lint = _run("ruff", "check", "shared", "services", "tests")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = _run("ruff", "format", "--check", "shared", "services", "tests")
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_contracts() -> None:
    """Services never import each other; shared imports no service."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
