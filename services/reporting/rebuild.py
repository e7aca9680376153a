"""Rebuild a trust's read model from empty by replaying the producers' change feeds.

Reads ``GET /v1/events?after=SEQ`` of each producer over HTTP with a ``service``-role
token, and applies every event reporting subscribes to through the same inbox-guarded
projections the live consumer uses. Projections do not depend on event order, so the
producers' feeds may be replayed one after the other.
"""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from services.reporting import models as m
from services.reporting.projections import CONSUMER, apply
from shared.bus.subscriptions import SUBSCRIPTIONS
from shared.events.envelope import EventEnvelope
from shared.outbox.inbox import consume_once
from shared.runtime import ServiceContext

PRODUCERS = ("incidents", "notifications")


async def clear(ctx: ServiceContext, trust_id: str) -> None:
    """Empty the trust's read model and the consumer's inbox (the outbox is kept)."""
    async with ctx.db.transaction() as conn:
        for name in m.READ_MODEL:
            table = m.metadata.tables[name]
            await conn.execute(table.delete().where(table.c.trust_id == trust_id))
        i = m.inbox
        await conn.execute(
            i.delete().where((i.c.trust_id == trust_id) & (i.c.consumer == CONSUMER))
        )


async def replay(
    ctx: ServiceContext, client: httpx.AsyncClient, token: str, page_size: int = 1000
) -> int:
    """Apply one producer's feed from the start; returns the events applied."""
    wanted = SUBSCRIPTIONS[CONSUMER]
    after, applied = 0, 0
    while True:
        r = await client.get(
            "/v1/events",
            params={"after": after, "limit": page_size},
            headers={"Authorization": f"Bearer {token}"},
        )
        r.raise_for_status()
        page = r.json()
        for item in page["items"]:
            env = EventEnvelope.model_validate(item)
            if env.type in wanted and await consume_once(
                ctx.db, m.inbox, CONSUMER, env, apply, ctx.clock
            ):
                applied += 1
        if page["next_after"] == after or not page["items"]:
            return applied
        after = page["next_after"]


async def rebuild(
    ctx: ServiceContext, trust_id: str, feeds: dict[str, httpx.AsyncClient], token: str
) -> dict[str, int]:
    """Clear the trust's read model and replay every producer's feed into it."""
    await clear(ctx, trust_id)
    return {name: await replay(ctx, client, token) for name, client in feeds.items()}


async def trusts_known(ctx: ServiceContext) -> list[str]:
    """Trusts the read model holds (the default for a rebuild)."""
    async with ctx.db.engine.connect() as conn:
        rows = await conn.execute(sa.select(m.inbox.c.trust_id).distinct())
        return sorted(r[0] for r in rows)
