"""Rebuilding the read model from empty, by replaying the producers' feeds, gives identical
reports."""

from __future__ import annotations

import sqlalchemy as sa

from services.incidents.schemas import EXAMPLE_INCIDENT
from services.reporting import models as m
from services.reporting import rebuild
from tests.support.fixtures import auth

AREAS = ("summary", "schools", "disproportionality", "outliers", "training", "audit")


async def reports(clients, token) -> dict:
    out = {}
    for role in ("trust_lead", "governor"):
        h = auth(token(role))
        for area in AREAS:
            r = await clients["reporting"].get(f"/v1/trusts/TR00001/{area}", headers=h)
            out[f"{role}/{area}"] = r.json()
        for metric in ("incidents", "pupils", "rate"):
            r = await clients["reporting"].get(
                f"/v1/trusts/TR00001/trends?metric={metric}&interval="
                + ("week" if role == "trust_lead" else "month"),
                headers=h,
            )
            out[f"{role}/trends/{metric}"] = r.json()
        r = await clients["reporting"].get(
            "/v1/trusts/TR00001/schools", headers={**h, "Accept": "text/csv"}
        )
        out[f"{role}/schools.csv"] = r.text
    return out


async def test_rebuild_from_empty_gives_identical_reports(seeded, clients, token, embedded):
    r = await clients["incidents"].post(
        "/v1/incidents", json=EXAMPLE_INCIDENT, headers=auth(token("recorder"))
    )
    assert r.status_code == 201
    await embedded.pump()
    before = await reports(clients, token)
    assert before["trust_lead/summary"]["incidents"]["total"]["count"] == 13
    assert before["trust_lead/summary"]["parent_reports_sent"]["count"] == 2

    ctx = seeded["reporting"]
    await rebuild.clear(ctx, "TR00001")
    emptied = await reports(clients, token)
    assert emptied["trust_lead/summary"]["incidents"]["total"]["count"] == 0
    async with ctx.db.engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(m.inbox)) == 0

    feeds = {name: clients[name] for name in rebuild.PRODUCERS}
    counts = await rebuild.rebuild(ctx, "TR00001", feeds, token("service"))
    # The demo registry and history, the new incident; each parent report's events.
    assert counts["incidents"] >= 17 and counts["notifications"] >= 2
    after = await reports(clients, token)
    assert after == before
    # A second rebuild, and replaying again over a full model, change nothing.
    await rebuild.rebuild(ctx, "TR00001", feeds, token("service"))
    assert await rebuild.replay(ctx, clients["incidents"], token("service")) == 0
    assert await reports(clients, token) == before


async def test_rebuild_needs_a_service_token(seeded, clients, token, embedded):
    await embedded.pump()
    import httpx
    import pytest

    with pytest.raises(httpx.HTTPStatusError):
        await rebuild.replay(seeded["reporting"], clients["incidents"], token("governor"))
