"""The audit log: every write and every pupil-level read, hash-chained per trust.

Entries are appended in the request's own transaction, so an audited action and its
entry commit together. The database refuses UPDATE and DELETE on the table (triggers in
migration 6f49a63cd701); ``verify`` walks a trust's chain and names the first break.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import models as m
from shared.auth.dependencies import PrincipalDep
from shared.clock import Clock
from shared.db.session import SessionDep

GENESIS = "0" * 64
# Reads that carry no pupil-identifiable data are not audited.
UNAUDITED_READS = frozenset(
    {"/v1/schools", "/v1/vocabulary", "/v1/vocabulary/labels", "/v1/vocabulary/unmapped"}
)


def entry_hash(entry: dict[str, Any]) -> str:
    """The hash of one entry: its fields and the previous entry's hash, canonically."""
    fields = {k: entry[k] for k in sorted(entry) if k != "hash"}
    at = fields["at"]
    if isinstance(at, datetime):
        fields["at"] = at.astimezone(UTC).isoformat(timespec="microseconds")
    raw = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(raw).hexdigest()


async def append(
    conn: AsyncConnection,
    clock: Clock,
    *,
    trust_id: str,
    actor: str,
    role: str,
    client: str | None,
    action: str,
    method: str,
    route: str,
    resource: str,
    pupil_id: str | None = None,
) -> dict[str, Any]:
    """Add one entry at the end of the trust's chain."""
    a = m.audit_log
    if conn.dialect.name == "postgresql":
        # One appender per trust at a time, so the chain never forks.
        await conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(trust_id))))
    last = (
        await conn.execute(
            sa.select(a.c.seq, a.c.hash)
            .where(a.c.trust_id == trust_id)
            .order_by(a.c.seq.desc())
            .limit(1)
        )
    ).first()
    entry: dict[str, Any] = {
        "trust_id": trust_id,
        "seq": (last.seq + 1) if last else 1,
        "at": clock.now().astimezone(UTC),
        "actor": actor,
        "role": role,
        "client": client,
        "action": action,
        "method": method,
        "route": route[:200],
        "resource": resource[:500],
        "pupil_id": pupil_id,
        "prev_hash": last.hash if last else GENESIS,
    }
    entry["hash"] = entry_hash(entry)
    await conn.execute(a.insert().values(**entry))
    return entry


async def audit_trail(
    request: Request, conn: SessionDep, principal: PrincipalDep
) -> AsyncIterator[None]:
    """Record the request once its endpoint has succeeded (reads of pupil data, writes)."""
    yield
    if getattr(request.state, "audit_skip", False):
        return
    route = request.scope.get("route")
    template = getattr(route, "path", request.url.path)
    method = request.method
    if method in ("GET", "HEAD") and template in UNAUDITED_READS:
        return
    await append(
        conn,
        request.app.state.ctx.clock,
        trust_id=principal.trust_id,
        actor=principal.subject,
        role=principal.role,
        client=principal.client_id,
        action="read" if method in ("GET", "HEAD") else "write",
        method=method,
        route=template,
        resource=request.url.path,
        pupil_id=getattr(request.state, "audit_pupil", None),
    )


@dataclass
class Break:
    """Where a trust's chain stops holding."""

    trust_id: str
    seq: int
    problem: str


async def verify(conn: AsyncConnection, trust_id: str | None = None) -> tuple[int, list[Break]]:
    """Walk each trust's chain: count entries, and report every gap, change or re-link."""
    a = m.audit_log
    stmt = sa.select(a).order_by(a.c.trust_id, a.c.seq)
    if trust_id:
        stmt = stmt.where(a.c.trust_id == trust_id)
    breaks: list[Break] = []
    count = 0
    current, expected_seq, prev = None, 1, GENESIS
    result = await conn.stream(stmt)
    async for row in result:
        count += 1
        if row.trust_id != current:
            current, expected_seq, prev = row.trust_id, 1, GENESIS
        entry = dict(row._mapping)
        if row.seq != expected_seq:
            breaks.append(Break(row.trust_id, row.seq, f"gap: expected entry {expected_seq}"))
        if row.prev_hash != prev:
            breaks.append(Break(row.trust_id, row.seq, "does not follow the entry before it"))
        if entry_hash(entry) != row.hash:
            breaks.append(Break(row.trust_id, row.seq, "changed since it was written"))
        expected_seq, prev = row.seq + 1, row.hash
    return count, breaks


async def query(
    conn: AsyncConnection,
    trust_id: str,
    *,
    actor: str | None,
    action: str | None,
    pupil_id: str | None,
    since: datetime | None,
    until: datetime | None,
    after_seq: int | None,
    limit: int,
) -> list[sa.Row]:
    """A trust's entries, newest first, filtered."""
    a = m.audit_log
    cond = a.c.trust_id == trust_id
    if actor:
        cond = cond & (a.c.actor == actor)
    if action:
        cond = cond & (a.c.action == action)
    if pupil_id:
        cond = cond & (a.c.pupil_id == pupil_id)
    if since:
        cond = cond & (a.c.at >= since)
    if until:
        cond = cond & (a.c.at < until)
    if after_seq is not None:
        cond = cond & (a.c.seq < after_seq)
    stmt = sa.select(a).where(cond).order_by(a.c.seq.desc()).limit(limit)
    return list((await conn.execute(stmt)).all())
