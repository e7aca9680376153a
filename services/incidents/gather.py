"""Reads that feed the pure record checks and rules: what a body's references resolve to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import models as m
from services.incidents import repository as repo
from services.incidents.record import Lookup
from services.incidents.rules import DEFAULT_SETTINGS, Training
from services.incidents.schemas import IncidentCreate
from services.incidents.vocabulary import (
    INTERVENTION_TYPES,
    STRATEGIES,
    TECHNIQUES,
    normalise_label,
)
from shared.auth.principal import Principal

T = TypeVar("T")
# A bulk import passes one cache for all its lines: registry reads are the same for each.
Cache = dict[tuple[Any, ...], Any]


async def cached(cache: Cache | None, key: tuple[Any, ...], fn: Callable[[], Awaitable[T]]) -> T:
    """``fn()``, remembered in ``cache`` under ``key`` when a cache is given."""
    if cache is None:
        return await fn()
    if key not in cache:
        cache[key] = await fn()
    value: T = cache[key]
    return value


async def _resolve(
    conn: AsyncConnection,
    trust_id: str,
    urn: str,
    kind: str,
    canon: Any,
    labels: set[str],
    cache: Cache | None = None,
) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for label in labels:
        norm = normalise_label(label)
        if norm in canon:
            out[label] = norm
        else:
            out[label] = await cached(
                cache,
                ("label", urn, kind, norm),
                lambda n=norm: repo.resolve_label(conn, trust_id, urn, kind, n),  # type: ignore[misc]
            )
    return out


async def _staff_names(conn: AsyncConnection, trust_id: str, urn: str) -> dict[str, str]:
    s = m.staff
    rows = await conn.execute(
        sa.select(s.c.staff_ref, s.c.name).where(
            (s.c.trust_id == trust_id) & (s.c.school_urn == urn)
        )
    )
    return {r.staff_ref: r.name for r in rows}


async def lookup(
    conn: AsyncConnection, principal: Principal, body: IncidentCreate, cache: Cache | None = None
) -> tuple[Lookup, sa.Row | None, sa.Row | None]:
    """Resolve the school, pupil, staff and every label the body uses."""
    look = Lookup()
    trust_id = principal.trust_id
    school = pupil = None
    urn = body.school_urn
    if urn and principal.may_see_school(urn):
        school = await cached(cache, ("school", urn), lambda: repo.get_school(conn, trust_id, urn))
    if school is None or urn is None:
        return look, None, None
    look.school_ok = True
    if body.pupil_ref:
        ref = body.pupil_ref
        pupil = await cached(
            cache, ("pupil", urn, ref), lambda: repo.get_pupil_by_ref(conn, trust_id, urn, ref)
        )
        look.pupil_ok = pupil is not None
    look.staff = await cached(cache, ("staff", urn), lambda: _staff_names(conn, trust_id, urn))
    ivs = body.interventions or []
    types = {iv.type for iv in ivs if iv.type}
    if body.intervention_type:
        types.add(body.intervention_type)
    look.types = await _resolve(
        conn, trust_id, urn, "intervention_type", INTERVENTION_TYPES, types, cache
    )
    techniques = {iv.technique for iv in ivs if iv.technique}
    look.techniques = await _resolve(
        conn, trust_id, urn, "technique", TECHNIQUES, techniques, cache
    )
    for label in techniques:
        norm = normalise_label(label)
        look.technique_attrs[label] = await cached(
            cache,
            ("attributes", urn, norm),
            lambda n=norm: repo.label_attributes(conn, trust_id, urn, "technique", n),  # type: ignore[misc]
        )
    strategies = set((body.alternatives.strategies or []) if body.alternatives else [])
    look.strategies = await _resolve(conn, trust_id, urn, "strategy", STRATEGIES, strategies, cache)
    return look, school, pupil


async def training_of(
    conn: AsyncConnection, trust_id: str, urn: str, refs: set[str]
) -> dict[str, list[Training]]:
    """Training records of the given staff."""
    t = m.staff_training
    rows = await conn.execute(
        sa.select(t).where(
            (t.c.trust_id == trust_id) & (t.c.school_urn == urn) & (t.c.staff_ref.in_(sorted(refs)))
        )
    )
    out: dict[str, list[Training]] = {}
    for r in rows:
        out.setdefault(r.staff_ref, []).append(
            Training(frozenset(r.techniques), _as_date(r.completed_date), _as_date(r.expiry_date))
        )
    return out


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def settings_for(conn: AsyncConnection, trust_id: str, urn: str) -> dict[str, Any]:
    """The trust's settings with the school's overrides applied over the defaults."""
    ts = m.trust_setting
    rows = {
        r.scope: r.settings
        for r in await conn.execute(
            sa.select(ts.c.scope, ts.c.settings).where(
                (ts.c.trust_id == trust_id) & (ts.c.scope.in_(["", urn]))
            )
        )
    }
    return {**DEFAULT_SETTINGS, **(rows.get("") or {}), **(rows.get(urn) or {})}
