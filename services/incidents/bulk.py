"""Bulk import of historic records as NDJSON: streamed, a result per line, atomic per record.

Imported records are historic: they reach reporting and never message parents. Each line
needs its natural key (``source_system``, ``source_id``), so running an import again
changes nothing, and a changed line becomes a new revision of the record it names.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import gather
from services.incidents.schemas import IncidentCreate
from services.incidents.service import _submit
from shared.auth.principal import Principal
from shared.clock import Clock
from shared.errors import CandourError, validation_errors

MAX_RECORDS = 10_000
MAX_LINE = 1024 * 1024


async def lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Split a streamed body into lines without holding more than one line at a time."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line
        if len(buffer) > MAX_LINE:
            yield buffer  # an over-long line fails on its own, as bad JSON
            buffer = b""
    if buffer.strip():
        yield buffer


@dataclass
class Summary:
    """Counts by outcome."""

    counts: dict[str, int] = field(
        default_factory=lambda: {"created": 0, "unchanged": 0, "amended": 0, "failed": 0}
    )

    def header(self) -> str:
        """The counts as one header value."""
        return ";".join(f"{k}={v}" for k, v in self.counts.items())


def _error(line: int, errors: list[dict[str, str]]) -> dict[str, Any]:
    return {"line": line, "status": "failed", "errors": errors}


async def import_line(
    conn: AsyncConnection,
    principal: Principal,
    clock: Clock,
    number: int,
    raw: bytes,
    cache: gather.Cache,
) -> dict[str, Any]:
    """One line: parsed, checked and stored in its own savepoint, or refused whole."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return _error(number, [{"pointer": "", "detail": "not a JSON object"}])
    if not isinstance(data, dict):
        return _error(number, [{"pointer": "", "detail": "not a JSON object"}])
    data.pop("status", None)
    try:
        body = IncidentCreate.model_validate(data)
    except ValidationError as exc:
        return _error(number, validation_errors(exc.errors()))  # type: ignore[arg-type]
    if not (body.source_system and body.source_id):
        return _error(
            number,
            [{"pointer": "/source_id", "detail": "an import needs source_system and source_id"}],
        )
    try:
        async with conn.begin_nested():
            incident, created = await _submit(conn, principal, body, clock, True, None, cache)
    except CandourError as exc:
        return _error(number, list(exc.errors or [{"pointer": "", "detail": exc.detail}]))
    amended = cache.pop(("amended", incident.incident_id), False)
    status = "created" if created else ("amended" if amended else "unchanged")
    return {
        "line": number,
        "status": status,
        "incident_id": incident.incident_id,
        "revision": incident.revision,
    }


async def import_stream(
    conn: AsyncConnection, principal: Principal, clock: Clock, chunks: AsyncIterator[bytes]
) -> tuple[list[dict[str, Any]], Summary]:
    """Every line's result, in order, and the counts."""
    cache: gather.Cache = {}
    results: list[dict[str, Any]] = []
    summary = Summary()
    number = 0
    async for raw in lines(chunks):
        number += 1
        if not raw.strip():
            number -= 1  # blank lines are not records
            continue
        if number > MAX_RECORDS:
            result = _error(
                number, [{"pointer": "", "detail": f"over {MAX_RECORDS} records in one request"}]
            )
        else:
            result = await import_line(conn, principal, clock, number, raw, cache)
        summary.counts[result["status"]] += 1
        results.append(result)
    return results, summary
