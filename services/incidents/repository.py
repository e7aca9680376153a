"""Every query of the incidents service; each starts from the caller's trust and schools."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import models as m
from shared.auth.principal import Principal
from shared.db.scoping import scoped


async def get_school(conn: AsyncConnection, trust_id: str, urn: str) -> sa.Row | None:
    """A school of the trust."""
    return (
        await conn.execute(
            sa.select(m.school).where((m.school.c.trust_id == trust_id) & (m.school.c.urn == urn))
        )
    ).first()


async def get_pupil_by_ref(
    conn: AsyncConnection, trust_id: str, urn: str, mis_ref: str
) -> sa.Row | None:
    """A pupil by the school's MIS reference."""
    p = m.pupil
    return (
        await conn.execute(
            sa.select(p).where(
                (p.c.trust_id == trust_id) & (p.c.school_urn == urn) & (p.c.mis_ref == mis_ref)
            )
        )
    ).first()


async def resolve_label(
    conn: AsyncConnection, trust_id: str, urn: str, kind: str, label: str
) -> str | None:
    """The canonical code a school's (or the trust's) label maps to; the school's own wins."""
    v = m.vocabulary_label
    rows = (
        await conn.execute(
            sa.select(v.c.scope, v.c.code).where(
                (v.c.trust_id == trust_id)
                & (v.c.kind == kind)
                & (v.c.label == label)
                & (v.c.scope.in_(["", urn]))
                & v.c.retired_at.is_(None)
            )
        )
    ).all()
    by_scope = {r.scope: r.code for r in rows}
    return by_scope.get(urn) or by_scope.get("")


async def label_attributes(
    conn: AsyncConnection, trust_id: str, urn: str, kind: str, label: str
) -> dict[str, Any]:
    """What a mapping says beyond its code (a hold's position and staff count)."""
    v = m.vocabulary_label
    rows = await conn.execute(
        sa.select(v.c.scope, v.c.attributes).where(
            (v.c.trust_id == trust_id)
            & (v.c.kind == kind)
            & (v.c.label == label)
            & (v.c.scope.in_(["", urn]))
            & v.c.retired_at.is_(None)
        )
    )
    by_scope = {r.scope: r.attributes for r in rows}
    return dict(by_scope.get(urn) or by_scope.get("") or {})


def incident_view() -> sa.Select[Any]:
    """Incidents joined with the pupil's MIS reference."""
    i, p = m.incident, m.pupil
    return sa.select(i, p.c.mis_ref.label("pupil_ref")).join(
        p, (p.c.trust_id == i.c.trust_id) & (p.c.pupil_id == i.c.pupil_id)
    )


async def get_incident(
    conn: AsyncConnection, principal: Principal, incident_id: str
) -> sa.Row | None:
    """One incident within the caller's scope (None for anything outside it)."""
    i = m.incident
    return (
        await conn.execute(
            incident_view().where(scoped(i, principal) & (i.c.incident_id == incident_id))
        )
    ).first()


async def find_by_source(
    conn: AsyncConnection, trust_id: str, urn: str, source_system: str, source_id: str
) -> sa.Row | None:
    """An incident by the MIS's natural key."""
    i = m.incident
    return (
        await conn.execute(
            incident_view().where(
                (i.c.trust_id == trust_id)
                & (i.c.school_urn == urn)
                & (i.c.source_system == source_system)
                & (i.c.source_id == source_id)
            )
        )
    ).first()


async def list_incidents(
    conn: AsyncConnection,
    principal: Principal,
    *,
    limit: int,
    after: tuple[datetime, str] | None,
    school_urn: str | None = None,
    occurred_from: datetime | None = None,
    occurred_to: datetime | None = None,
    intervention_type: str | None = None,
    status: str | None = None,
    flag: str | None = None,
    pupil_id: str | None = None,
) -> list[sa.Row]:
    """A page of incidents, newest first, keyed on (occurred_at, incident_id)."""
    i = m.incident
    cond = scoped(i, principal)
    if school_urn:
        cond = cond & (i.c.school_urn == school_urn)
    if occurred_from is not None:
        cond = cond & (i.c.occurred_at >= occurred_from)
    if occurred_to is not None:
        cond = cond & (i.c.occurred_at < occurred_to)
    if intervention_type:
        cond = cond & (i.c.intervention_type == intervention_type)
    if status:
        cond = cond & (i.c.status == status)
    if pupil_id:
        cond = cond & (i.c.pupil_id == pupil_id)
    if flag:
        # Flags are stored as JSON text written by one serialiser on both dialects.
        needle = '%"code": "' + flag.replace("%", "").replace("_", "\\_") + '"%'
        cond = cond & sa.cast(i.c.flags, sa.Text).like(needle, escape="\\")
    if after is not None:
        at, iid = after
        cond = cond & ((i.c.occurred_at < at) | ((i.c.occurred_at == at) & (i.c.incident_id < iid)))
    stmt = (
        incident_view()
        .where(cond)
        .order_by(i.c.occurred_at.desc(), i.c.incident_id.desc())
        .limit(limit)
    )
    return list((await conn.execute(stmt)).all())


async def get_idempotent(
    conn: AsyncConnection, trust_id: str, caller: str, key: str
) -> sa.Row | None:
    """A previous create under the same Idempotency-Key."""
    k = m.idempotency_key
    return (
        await conn.execute(
            sa.select(k).where(
                (k.c.trust_id == trust_id) & (k.c.caller == caller) & (k.c.key == key)
            )
        )
    ).first()


async def get_revision(
    conn: AsyncConnection, trust_id: str, incident_id: str, revision: int
) -> sa.Row | None:
    """One revision of an incident (callers have checked scope on the incident)."""
    r = m.incident_revision
    return (
        await conn.execute(
            sa.select(r).where(
                (r.c.trust_id == trust_id)
                & (r.c.incident_id == incident_id)
                & (r.c.revision == revision)
            )
        )
    ).first()


async def list_revisions(conn: AsyncConnection, trust_id: str, incident_id: str) -> list[sa.Row]:
    """Every revision of an incident, oldest first."""
    r = m.incident_revision
    stmt = (
        sa.select(r)
        .where((r.c.trust_id == trust_id) & (r.c.incident_id == incident_id))
        .order_by(r.c.revision)
    )
    return list((await conn.execute(stmt)).all())


async def get_draft(conn: AsyncConnection, principal: Principal, incident_id: str) -> sa.Row | None:
    """A draft within the caller's scope."""
    d = m.incident_draft
    return (
        await conn.execute(
            sa.select(d).where(scoped(d, principal) & (d.c.incident_id == incident_id))
        )
    ).first()


async def get_pupil(conn: AsyncConnection, trust_id: str, pupil_id: str) -> sa.Row | None:
    """A pupil by Candour id."""
    p = m.pupil
    return (
        await conn.execute(
            sa.select(p).where((p.c.trust_id == trust_id) & (p.c.pupil_id == pupil_id))
        )
    ).first()


async def existing_sources(
    conn: AsyncConnection, trust_id: str, urn: str, source_system: str
) -> dict[str, tuple[str, int, dict[str, Any]]]:
    """Every record of one source system at a school: source id -> id, revision, input."""
    i, r = m.incident, m.incident_revision
    stmt = (
        sa.select(i.c.source_id, i.c.incident_id, i.c.revision, r.c.body)
        .join(
            r,
            (r.c.trust_id == i.c.trust_id)
            & (r.c.incident_id == i.c.incident_id)
            & (r.c.revision == i.c.revision),
        )
        .where(
            (i.c.trust_id == trust_id)
            & (i.c.school_urn == urn)
            & (i.c.source_system == source_system)
        )
    )
    return {
        row.source_id: (row.incident_id, row.revision, (row.body or {}).get("input") or {})
        for row in await conn.execute(stmt)
    }


async def list_drafts(
    conn: AsyncConnection, principal: Principal, *, limit: int, after: tuple[datetime, str] | None
) -> list[sa.Row]:
    """A page of drafts in the caller's scope, newest first."""
    d = m.incident_draft
    cond = scoped(d, principal)
    if after is not None:
        at, iid = after
        cond = cond & ((d.c.created_at < at) | ((d.c.created_at == at) & (d.c.incident_id < iid)))
    stmt = sa.select(d).where(cond).order_by(d.c.created_at.desc(), d.c.incident_id.desc())
    return list((await conn.execute(stmt.limit(limit))).all())
