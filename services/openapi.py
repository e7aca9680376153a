"""The published contract: each service's OpenAPI document and a JSON Schema per event type.

``python -m services.openapi write`` (``make openapi``) regenerates ``openapi/``; the test
suite regenerates in memory and fails when the committed files differ.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from services import catalog
from shared.config import SERVICES, Settings
from shared.db.engine import Database
from shared.events.envelope import EventEnvelope
from shared.events.registry import EVENT_TYPES
from shared.runtime import ServiceContext

ROOT = Path(__file__).resolve().parent.parent / "openapi"


def _dump(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def documents() -> dict[str, str]:
    """Every document of the contract, by path relative to ``openapi/``."""
    settings = Settings(env="dev")
    out: dict[str, str] = {}
    for name in SERVICES:
        ctx = ServiceContext(name, settings, Database("sqlite+aiosqlite:///:memory:"))
        app = catalog.SPECS[name].create_app(ctx)
        out[f"{name}.json"] = _dump(app.openapi())
    for event_type, model in sorted(EVENT_TYPES.items()):
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://candour.example/events/{event_type}.json"
        schema["title"] = event_type
        schema["description"] = (model.__doc__ or "").strip()
        out[f"events/{event_type}.json"] = _dump(schema)
    envelope = EventEnvelope.model_json_schema()
    envelope["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["events/envelope.json"] = _dump(envelope)
    return out


def write(root: Path = ROOT) -> list[str]:
    """Write every document; remove stale ones; return what changed."""
    docs = documents()
    changed = []
    for rel, text in docs.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(rel)
    for path in root.rglob("*.json"):
        rel = str(path.relative_to(root))
        if rel not in docs:
            path.unlink()
            changed.append(rel)
    return changed


def drift(root: Path = ROOT) -> list[str]:
    """Documents that differ from the committed ones (missing, changed or stale)."""
    docs = documents()
    out = [
        rel
        for rel, text in docs.items()
        if not (root / rel).exists() or (root / rel).read_text() != text
    ]
    out += [
        str(p.relative_to(root))
        for p in root.rglob("*.json")
        if str(p.relative_to(root)) not in docs
    ]
    return sorted(out)


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "write"
    if command == "write":
        for rel in write():
            print(f"wrote openapi/{rel}")
    elif command == "check":
        stale = drift()
        for rel in stale:
            print(f"drift: openapi/{rel}")
        sys.exit(1 if stale else 0)
    else:
        sys.exit("usage: python -m services.openapi [write|check]")
