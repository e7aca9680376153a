"""The trust vocabulary as versioned data: mappings, retirement, publication, gaps."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import models as m
from services.incidents import registry
from services.incidents.registry_api import school_in_scope
from services.incidents.registry_schemas import LabelIn, LabelOut, UnmappedLabel
from services.incidents.vocabulary import (
    INTERVENTION_TYPES,
    POSITIONS,
    STRATEGIES,
    TECHNIQUES,
    normalise_label,
)
from shared.auth.principal import Principal
from shared.clock import Clock
from shared.errors import NotFound, ValidationFailed
from shared.events.payloads import VocabularyPublishedV1
from shared.outbox.writer import record_event

CANON: dict[str, Iterable[str]] = {
    "intervention_type": INTERVENTION_TYPES,
    "technique": TECHNIQUES,
    "strategy": STRATEGIES,
}


def terms() -> dict[str, list[str]]:
    """The canonical terms of each kind."""
    return {
        "intervention_type": sorted(INTERVENTION_TYPES),
        "technique": sorted(TECHNIQUES),
        "strategy": sorted(STRATEGIES),
        "position": list(POSITIONS),
    }


async def version(conn: AsyncConnection, trust_id: str) -> int:
    """The trust's published vocabulary version."""
    v = await conn.scalar(
        sa.select(m.trust.c.vocabulary_version).where(m.trust.c.trust_id == trust_id)
    )
    return int(v or 1)


async def list_labels(conn: AsyncConnection, principal: Principal) -> list[LabelOut]:
    """Every mapping of the trust, retired ones included."""
    v = m.vocabulary_label
    rows = await conn.execute(
        sa.select(v)
        .where(v.c.trust_id == principal.trust_id)
        .order_by(v.c.kind, v.c.scope, v.c.label)
    )
    return [
        LabelOut(
            scope=r.scope,
            kind=r.kind,
            label=r.label,
            code=r.code,
            version=r.version,
            retired_at=r.retired_at,
            attributes=r.attributes,
        )
        for r in rows
    ]


async def put_label(
    conn: AsyncConnection, principal: Principal, clock: Clock, body: LabelIn
) -> LabelOut:
    """Map a school's or provider's label onto a canonical term (un-retiring it if needed)."""
    if body.scope:
        await school_in_scope(conn, principal, body.scope)
    problems = []
    if body.code not in CANON[body.kind]:
        problems.append({"pointer": "/code", "detail": f"not a canonical {body.kind}"})
    attributes = body.model_dump(include={"position", "staff_count"}, exclude_none=True)
    if attributes and body.kind != "technique":
        problems += [{"pointer": f"/{k}", "detail": "only for techniques"} for k in attributes]
    if problems:
        raise ValidationFailed("The mapping cannot be recorded; see errors.", errors=problems)
    label = normalise_label(body.label)
    ver = await version(conn, principal.trust_id)
    await registry.upsert(
        conn,
        m.vocabulary_label,
        {"trust_id": principal.trust_id, "scope": body.scope, "kind": body.kind, "label": label},
        {"code": body.code, "version": ver, "retired_at": None, "attributes": attributes or None},
    )
    return LabelOut(
        scope=body.scope,
        kind=body.kind,
        label=label,
        code=body.code,
        version=ver,
        retired_at=None,
        attributes=attributes or None,
    )


async def retire_label(
    conn: AsyncConnection, principal: Principal, clock: Clock, scope: str, kind: str, label: str
) -> None:
    """Retire a mapping: it stops applying to new records and is never deleted."""
    v = m.vocabulary_label
    result = await conn.execute(
        v.update()
        .where(
            (v.c.trust_id == principal.trust_id)
            & (v.c.scope == scope)
            & (v.c.kind == kind)
            & (v.c.label == normalise_label(label))
            & v.c.retired_at.is_(None)
        )
        .values(retired_at=clock.now())
    )
    if result.rowcount != 1:
        raise NotFound("No such mapping in force.")


async def publish(conn: AsyncConnection, principal: Principal, clock: Clock) -> int:
    """Publish the mappings as a new vocabulary version; new records carry it."""
    new = await version(conn, principal.trust_id) + 1
    await conn.execute(
        m.trust.update()
        .where(m.trust.c.trust_id == principal.trust_id)
        .values(vocabulary_version=new)
    )
    v = m.vocabulary_label
    count = await conn.scalar(
        sa.select(sa.func.count()).where(
            (v.c.trust_id == principal.trust_id) & v.c.retired_at.is_(None)
        )
    )
    await record_event(
        conn,
        m.outbox,
        type="vocabulary.published.v1",
        trust_id=principal.trust_id,
        subject_id=principal.trust_id,
        subject_revision=new,
        occurred_at=clock.now(),
        payload=VocabularyPublishedV1(
            version=new, mappings=int(count or 0), published_at=clock.now()
        ),
    )
    return new


async def record_unmapped(
    conn: AsyncConnection, trust_id: str, urn: str, found: list[tuple[str, str]], now: datetime
) -> None:
    """Count labels a submission used that map to nothing, for the trust to map."""
    u = m.unmapped_label
    for kind, label in sorted(set(found)):
        key = (
            (u.c.trust_id == trust_id)
            & (u.c.scope == urn)
            & (u.c.kind == kind)
            & (u.c.label == normalise_label(label))
        )
        result = await conn.execute(
            u.update().where(key).values(seen=u.c.seen + 1, last_seen_at=now)
        )
        if result.rowcount == 0:
            await conn.execute(
                u.insert().values(
                    trust_id=trust_id,
                    scope=urn,
                    kind=kind,
                    label=normalise_label(label)[:120],
                    seen=1,
                    first_seen_at=now,
                    last_seen_at=now,
                )
            )


async def list_unmapped(conn: AsyncConnection, principal: Principal) -> list[UnmappedLabel]:
    """Labels in use that map to nothing (at the school or trust-wide), most seen first."""
    u, v = m.unmapped_label, m.vocabulary_label
    mapped = sa.exists().where(
        (v.c.trust_id == u.c.trust_id)
        & (v.c.kind == u.c.kind)
        & (v.c.label == u.c.label)
        & (v.c.scope.in_([u.c.scope, ""]))
        & v.c.retired_at.is_(None)
    )
    cond = (u.c.trust_id == principal.trust_id) & ~mapped
    if principal.schools is not None:
        cond = cond & u.c.scope.in_(sorted(principal.schools))
    rows = await conn.execute(sa.select(u).where(cond).order_by(u.c.seen.desc(), u.c.label))
    return [
        UnmappedLabel(
            scope=r.scope,
            kind=r.kind,
            label=r.label,
            seen=r.seen,
            first_seen_at=r.first_seen_at,
            last_seen_at=r.last_seen_at,
        )
        for r in rows
    ]
