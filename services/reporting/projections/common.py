"""Helpers every projection uses: upserts and per-subject revision guards."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m


def _key(table: sa.Table, key: dict[str, Any]) -> sa.ColumnElement[bool]:
    return sa.and_(*(table.c[k] == v for k, v in key.items()))


async def upsert(
    conn: AsyncConnection,
    table: sa.Table,
    key: dict[str, Any],
    values: dict[str, Any],
    newer: sa.ColumnElement[bool] | None = None,
) -> bool:
    """Insert, or update when ``newer`` holds (always, when None); True if written."""
    cond = _key(table, key)
    exists = (await conn.execute(sa.select(*(table.c[k] for k in key)).where(cond))).first()
    if exists is None:
        await conn.execute(table.insert().values(**key, **values))
        return True
    if newer is not None:
        cond = cond & newer
    result = await conn.execute(table.update().where(cond).values(**values))
    return bool(result.rowcount)


async def claim_revision(
    conn: AsyncConnection, trust_id: str, kind: str, subject_id: str, revision: int
) -> bool:
    """Whether ``revision`` is newer than any applied for this subject (and record it)."""
    v = m.subject_version
    return await upsert(
        conn,
        v,
        {"trust_id": trust_id, "kind": kind, "subject_id": subject_id},
        {"revision": revision},
        newer=v.c.revision < revision,
    )


async def ensure_report(
    conn: AsyncConnection, trust_id: str, report_id: str, incident_id: str, school_urn: str
) -> sa.ColumnElement[bool]:
    """The parent report's status row (created by whichever of its events comes first)."""
    s = m.parent_report_status
    key = {"trust_id": trust_id, "report_id": report_id}
    cond = _key(s, key)
    if (await conn.execute(sa.select(s.c.report_id).where(cond))).first() is None:
        await conn.execute(s.insert().values(**key, incident_id=incident_id, school_urn=school_urn))
    return cond
