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
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import gather
from services.incidents import repository as repo
from services.incidents.schemas import IncidentCreate
from services.incidents.service import (
    Prepared,
    _submit,
    build,
    input_json,
    prepare_new,
    write_prepared,
)
from shared.auth.principal import Principal
from shared.clock import Clock
from shared.errors import CandourError, validation_errors

MAX_RECORDS = 10_000
MAX_LINE = 1024 * 1024
BATCH = 500


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


def parse_line(number: int, raw: bytes) -> IncidentCreate | dict[str, Any]:
    """A line as a body, or its failed result (no I/O)."""
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
    return body


class Importer:
    """One import: new records go out in batches; re-sends are compared without a query."""

    def __init__(self, conn: AsyncConnection, principal: Principal, clock: Clock) -> None:
        self.conn, self.principal, self.clock = conn, principal, clock
        self.cache: gather.Cache = {}
        self.pending: list[tuple[int, Prepared]] = []
        self.results: dict[int, dict[str, Any]] = {}

    async def _known(self, body: IncidentCreate) -> dict[str, tuple[str, int, dict[str, Any]]]:
        assert body.school_urn and body.source_system
        urn, system = body.school_urn, body.source_system
        return await gather.cached(
            self.cache,
            ("sources", urn, system),
            lambda: repo.existing_sources(self.conn, self.principal.trust_id, urn, system),
        )

    async def add(self, number: int, body: IncidentCreate) -> None:
        """Take one parsed line."""
        assert body.school_urn and body.source_id
        known = None
        if self.principal.may_see_school(body.school_urn):
            known = await self._known(body)
            previous = known.get(body.source_id)
            if previous is not None and previous[2] == input_json(body):
                self.results[number] = {
                    "line": number,
                    "status": "unchanged",
                    "incident_id": previous[0],
                    "revision": previous[1],
                }
                return
            if previous is not None:
                await self.flush()  # the record it amends may be in the batch
                result = self.results[number] = await self._alone(number, body)
                if result["status"] != "failed":
                    known[body.source_id] = (
                        result["incident_id"],
                        result["revision"],
                        input_json(body),
                    )
                return
        try:
            built = await build(
                self.conn, self.principal, body, self.clock, historic=True, cache=self.cache
            )
        except CandourError as exc:
            self.results[number] = _error(number, _problems(exc))
            return
        prepared = prepare_new(self.principal, body, self.clock, built)
        self.pending.append((number, prepared))
        if known is not None:
            known[body.source_id] = (prepared.incident.incident_id, 1, input_json(body))
        if len(self.pending) >= BATCH:
            await self.flush()

    async def _alone(self, number: int, body: IncidentCreate) -> dict[str, Any]:
        try:
            async with self.conn.begin_nested():
                incident, created = await _submit(
                    self.conn, self.principal, body, self.clock, True, None, self.cache
                )
        except CandourError as exc:
            return _error(number, _problems(exc))
        amended = self.cache.pop(("amended", incident.incident_id), False)
        status = "created" if created else ("amended" if amended else "unchanged")
        return {
            "line": number,
            "status": status,
            "incident_id": incident.incident_id,
            "revision": incident.revision,
        }

    async def flush(self) -> None:
        """Write the batch; should it fail, each record alone, so one bad one spoils none."""
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            async with self.conn.begin_nested():
                await write_prepared(self.conn, [p for _, p in batch])
            written = [(n, p) for n, p in batch]
        except DBAPIError:
            written = []
            for n, p in batch:
                try:
                    async with self.conn.begin_nested():
                        await write_prepared(self.conn, [p])
                    written.append((n, p))
                except DBAPIError:
                    self.results[n] = _error(n, [{"pointer": "", "detail": "could not be stored"}])
        for n, p in written:
            self.results[n] = {
                "line": n,
                "status": "created",
                "incident_id": p.incident.incident_id,
                "revision": 1,
            }


def _problems(exc: CandourError) -> list[dict[str, str]]:
    return list(exc.errors or [{"pointer": "", "detail": exc.detail}])


async def import_stream(
    conn: AsyncConnection, principal: Principal, clock: Clock, chunks: AsyncIterator[bytes]
) -> tuple[list[dict[str, Any]], Summary]:
    """Every line's result, in order, and the counts."""
    importer = Importer(conn, principal, clock)
    number = 0
    async for raw in lines(chunks):
        if not raw.strip():
            continue  # blank lines are not records
        number += 1
        if number > MAX_RECORDS:
            detail = f"over {MAX_RECORDS} records in one request"
            importer.results[number] = _error(number, [{"pointer": "", "detail": detail}])
            continue
        parsed = parse_line(number, raw)
        if isinstance(parsed, dict):
            importer.results[number] = parsed
        else:
            await importer.add(number, parsed)
    await importer.flush()
    summary = Summary()
    results = [importer.results[n] for n in range(1, number + 1)]
    for result in results:
        summary.counts[result["status"]] += 1
    return results, summary
