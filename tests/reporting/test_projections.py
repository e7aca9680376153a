"""Projections are idempotent and give the same read model whatever order events arrive in."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from services.reporting import models as m
from services.reporting.projections import make_consumer
from services.reporting.refill import refill
from tests.reporting.builders import (
    T0,
    amended,
    envelope,
    flagged,
    incident,
    report_event,
    roll,
    staff,
    training,
)


def stream(trust: str) -> list:
    """A history touching every kind of projection, with an amendment and a late roll."""
    e = lambda *a, **k: envelope(*a, trust=trust, **k)  # noqa: E731
    return [
        e("incident.submitted.v1", incident(staff_injuries=1, staff_ids=("s-1",)), subject="i-1"),
        e(
            "incident.amended.v1",
            amended(revision=2, kind="seclusion", staff_injuries=2, staff_ids=("s-1", "s-2")),
            subject="i-1",
            revision=2,
        ),
        e("incident.submitted.v1", incident("i-2", pupil="p-2"), subject="i-2"),
        e(
            "incident.amended.v1",
            amended(incident_id="i-2", pupil="p-2", revision=2, voided=True),
            subject="i-2",
            revision=2,
        ),
        e(
            "pupil.updated.v1",
            {
                "school_urn": "100001",
                "pupil": {"pupil_id": "p-1", "sen_provision": "K"},
                "fsm_ever6": True,
            },
            subject="p-1",
        ),
        e(
            "pupil.updated.v1",
            {
                "school_urn": "100001",
                "pupil": {"pupil_id": "p-1", "sen_provision": "K"},
                "fsm_ever6": False,
            },
            subject="p-1",
            revision=2,
        ),
        e(
            "roll.updated.v1",
            roll(total=300),
            subject="100001:2026",
            revision=1,
        ),
        e(
            "roll.updated.v1",
            roll(total=320, sen_provision={"N": 280, "K": 30, "E": 10}),
            subject="100001:2026",
            revision=2,
        ),
        e(
            "parent_report.sent.v1",
            report_event("sent"),
            producer="notifications",
            subject="r-1",
        ),
        e(
            "parent_report.delivered.v1",
            report_event("delivered", at=T0 + timedelta(minutes=31)),
            producer="notifications",
            subject="r-1",
        ),
        e(
            "parent_report.completed.v1",
            report_event("completed", at=T0 + timedelta(minutes=31)),
            producer="notifications",
            subject="r-1",
        ),
        e("practice.flagged.v1", flagged("i-1", "prone_hold"), subject="i-1"),
        e("practice.flagged.v1", flagged("i-1", "pain_compliance"), subject="i-1"),
        e(
            "incident.reviewed.v1",
            {
                "incident_id": "i-1",
                "revision": 2,
                "status": "reviewed",
                "reviewer_role": "school_lead",
                "reviewed_at": (T0 + timedelta(days=2)).isoformat(),
                "support_plan_changed": True,
                "handling_plan_changed": False,
            },
            subject="i-1",
        ),
        e("staff.updated.v1", staff("s-1"), subject="s-1"),
        # s-1's training covers the day; s-2 has none, so i-1 counts as with untrained staff.
        e("training.recorded.v1", training("s-1", "2025-01-01", "2027-01-10"), subject="s-1"),
        e(
            "trust.settings_changed.v1",
            {"settings": {"suppression_threshold": 3}, "effective": {"suppression_threshold": 3}},
            school=None,
            subject=trust,
        ),
    ]


async def dump(conn, trust: str) -> dict[str, list]:
    out = {}
    for name in m.READ_MODEL:
        t = m.metadata.tables[name]
        cols = [c for c in t.c if c.name not in ("trust_id", "last_event_at")]
        rows = (await conn.execute(sa.select(*cols).where(t.c.trust_id == trust))).all()
        out[name] = sorted(tuple(str(v) for v in r) for r in rows)
    return out


async def test_any_order_and_repeats_give_the_same_read_model(contexts, clients, token) -> None:
    ctx = contexts["reporting"]
    consume = make_consumer(ctx)
    forward, backward = stream("TR00001"), stream("TR00002")
    for env in forward:
        assert await consume(env)
    for env in reversed(backward):
        assert await consume(env)
    for env in forward:  # a repeat changes nothing
        assert not await consume(env)
    async with ctx.db.engine.connect() as conn:
        a, b = await dump(conn, "TR00001"), await dump(conn, "TR00002")
        assert a == b
        f = m.incident_fact
        row = (
            await conn.execute(
                sa.select(f).where((f.c.trust_id == "TR00001") & (f.c.incident_id == "i-1"))
            )
        ).one()
        assert (row.revision, row.intervention_type, row.staff_injuries) == (2, "seclusion", 2)
        assert row.fsm_ever6 is None  # as the record left it; the pupil's latest is joined
        p = m.pupil
        ever6 = (
            await conn.execute(sa.select(p.c.fsm_ever6).where(p.c.trust_id == "TR00002"))
        ).scalar_one()
        assert ever6 is False  # revision 2 wins though it arrived first
        voided = (
            await conn.execute(
                sa.select(f.c.voided).where(
                    (f.c.trust_id == "TR00002") & (f.c.incident_id == "i-2")
                )
            )
        ).scalar_one()
        assert voided is True
        assert ("100001", "2026", "all", "all", "320") in a["roll"]
        assert ("100001", "2026", "sen", "K", "30") in a["roll"]
        s = m.parent_report_status
        pr = (await conn.execute(sa.select(s).where(s.c.trust_id == "TR00002"))).one()
        assert pr.outcome == "met" and pr.first_delivered_at == T0 + timedelta(minutes=31)
        d = m.incident_day
        day = (await conn.execute(sa.select(d).where(d.c.trust_id == "TR00001"))).one()
        assert (day.kind, day.incidents, day.flagged, day.reviewed, day.untrained) == (
            "seclusion",
            1,
            2,
            1,
            1,
        )
    # What the projections kept is what a one-pass refill computes from the base tables.
    async with ctx.db.transaction() as conn:
        for statement in refill(["TR00001"]):
            await conn.execute(statement)
    async with ctx.db.engine.connect() as conn:
        assert await dump(conn, "TR00001") == a
    for trust in ("TR00001", "TR00002"):
        r = await clients["reporting"].get(
            f"/v1/trusts/{trust}/disproportionality",
            headers={"Authorization": f"Bearer {token('trust_lead', trust=trust)}"},
        )
        groups = {(g["dimension"], g["group"]): g for g in r.json()["groups"]}
        assert groups[("fsm_ever6", "no")]["incidents"]["count"] == 1  # i-2 is voided


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_concurrent_consumers_keep_the_rollups_exact(contexts) -> None:
    """Events of one incident applied at once, as arq workers do: the rollups still equal
    the one-pass refill (each event's share is computed from state no other holds). Eight
    more incidents arrive each beside its member of staff's certificate: neither may miss
    the other's write."""
    ctx = contexts["reporting"]
    consume = make_consumer(ctx)
    e = envelope
    events = [e("incident.submitted.v1", incident(staff_ids=("s-1",)), subject="i-1")]
    for k in range(2, 10):
        events.append(
            e(
                "incident.submitted.v1",
                incident(f"i-{k}", pupil=f"p-{k}", staff_ids=(f"s-{k}",)),
                subject=f"i-{k}",
            )
        )
        events.append(e("training.recorded.v1", training(f"s-{k}", "2025-01-01", "2027-01-10")))
    for k in range(6):
        ids = {"report_id": f"r-{k}", "incident_id": "i-1"}
        events.append(
            e(
                "parent_report.sent.v1",
                report_event("sent", **ids),
                producer="notifications",
                subject=f"r-{k}",
            )
        )
        events.append(
            e(
                "parent_report.completed.v1",
                report_event("completed", **ids, at=T0 + timedelta(minutes=30)),
                producer="notifications",
                subject=f"r-{k}",
            )
        )
    for code in ("prone_hold", "pain_compliance", "restraint_by_untrained_staff"):
        events.append(e("practice.flagged.v1", flagged("i-1", code), subject="i-1"))
    events.append(e("training.recorded.v1", training("s-1", "2025-01-01", "2027-01-10")))
    assert all(await asyncio.gather(*(consume(x) for x in events)))
    async with ctx.db.engine.connect() as conn:
        kept = await dump(conn, "TR00001")
    assert sum(int(row[4]) for row in kept["report_day"]) == 6  # sent, one per report
    async with ctx.db.transaction() as conn:
        for statement in refill(["TR00001"]):
            await conn.execute(statement)
    async with ctx.db.engine.connect() as conn:
        assert await dump(conn, "TR00001") == kept
