"""The outbox and inbox: nothing lost on a crash, nothing published or applied twice."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa

from services.incidents import models as incidents_models
from services.reporting import models as reporting_models
from services.reporting.projections import make_consumer as reporting_consumer
from shared.events.envelope import EventEnvelope
from shared.outbox.inbox import consume_once
from shared.outbox.relay import Relay
from shared.outbox.writer import record_event
from shared.runtime import ServiceContext

OUTBOX = reporting_models.outbox  # any service's outbox will do: the mechanism is shared


class RecordingBus:
    """A bus that remembers what it was given (the relay's side of the contract)."""

    def __init__(self, fail_on: set[uuid.UUID] | None = None) -> None:
        self.published: list[EventEnvelope] = []
        self.fail_on = fail_on or set()

    async def publish(self, envelope: EventEnvelope) -> None:
        if envelope.event_id in self.fail_on:
            raise ConnectionError("bus down")
        self.published.append(envelope)


def school_payload(urn: str) -> dict:
    return {
        "school": {
            "urn": urn,
            "name": f"School {urn}",
            "timezone": "Europe/London",
            "setting_type": "primary",
        }
    }


async def write_events(ctx: ServiceContext, n: int, trust: str = "TR00001") -> list[uuid.UUID]:
    ids = []
    async with ctx.db.transaction() as conn:
        for i in range(n):
            urn = f"1{i:05d}"
            ids.append(
                await record_event(
                    conn,
                    OUTBOX,
                    type="school.registered.v1",
                    trust_id=trust,
                    school_urn=urn,
                    subject_id=urn,
                    subject_revision=1,
                    occurred_at=ctx.clock.now(),
                    payload=school_payload(urn),
                )
            )
    return ids


async def test_event_rolled_back_with_its_transaction_is_never_published(contexts) -> None:
    ctx = contexts["reporting"]
    with pytest.raises(RuntimeError):
        async with ctx.db.transaction() as conn:
            await record_event(
                conn,
                OUTBOX,
                type="school.registered.v1",
                trust_id="TR00001",
                school_urn="100001",
                subject_id="100001",
                subject_revision=1,
                occurred_at=ctx.clock.now(),
                payload=school_payload("100001"),
            )
            raise RuntimeError("the domain write failed")
    bus = RecordingBus()
    assert await Relay("reporting", ctx.db, OUTBOX, bus).drain() == 0
    assert bus.published == []


async def test_unregistered_or_invalid_events_are_refused(contexts) -> None:
    ctx = contexts["reporting"]
    async with ctx.db.transaction() as conn:
        with pytest.raises(KeyError):
            await record_event(
                conn,
                OUTBOX,
                type="nothing.happened.v1",
                trust_id="TR00001",
                subject_id="x",
                subject_revision=1,
                occurred_at=ctx.clock.now(),
                payload={},
            )
        with pytest.raises(ValueError):
            await record_event(
                conn,
                OUTBOX,
                type="school.registered.v1",
                trust_id="TR00001",
                subject_id="x",
                subject_revision=1,
                occurred_at=ctx.clock.now(),
                payload={"school": {"urn": "nope"}},
            )


async def test_crash_after_commit_before_publish_loses_nothing(contexts) -> None:
    ctx = contexts["reporting"]
    ids = await write_events(ctx, 3)
    # The bus is down for the second event: the relay publishes the first, keeps order,
    # and leaves the rest for its next run (as after a crash or restart).
    bus = RecordingBus(fail_on={ids[1]})
    assert await Relay("reporting", ctx.db, OUTBOX, bus).run_once() == 1
    assert [e.event_id for e in bus.published] == ids[:1]
    bus.fail_on.clear()
    assert await Relay("reporting", ctx.db, OUTBOX, bus).drain() == 2
    assert [e.event_id for e in bus.published] == ids
    assert [e.sequence for e in bus.published] == [1, 2, 3]
    async with ctx.db.engine.connect() as conn:
        attempts = await conn.scalar(
            sa.select(OUTBOX.c.attempts).where(OUTBOX.c.event_id == ids[1])
        )
    assert attempts == 1


async def test_two_relays_at_once_publish_each_event_once(contexts) -> None:
    ctx = contexts["reporting"]
    ids = await write_events(ctx, 40)
    bus = RecordingBus()
    relays = [Relay("reporting", ctx.db, OUTBOX, bus, batch_size=7) for _ in range(2)]
    await asyncio.gather(*(r.drain() for r in relays))
    while await relays[0].drain():
        pass
    assert sorted(e.event_id for e in bus.published) == sorted(ids)
    assert len(bus.published) == len(ids)
    assert [e.sequence for e in bus.published] == list(range(1, 41))
    again = await relays[1].drain()
    assert again == 0


async def test_event_delivered_three_times_changes_the_consumer_once(contexts) -> None:
    producer, consumer = contexts["incidents"], contexts["reporting"]

    ids = []
    async with producer.db.transaction() as conn:
        ids.append(
            await record_event(
                conn,
                incidents_models.outbox,
                type="school.registered.v1",
                trust_id="TR00001",
                school_urn="100001",
                subject_id="100001",
                subject_revision=1,
                occurred_at=producer.clock.now(),
                payload=school_payload("100001"),
            )
        )
    bus = RecordingBus()
    await Relay("incidents", producer.db, incidents_models.outbox, bus).drain()
    envelope = next(e for e in bus.published if e.event_id == ids[0])
    handle = reporting_consumer(consumer)
    results = [await handle(envelope) for _ in range(3)]
    assert results == [True, False, False]
    # Concurrent deliveries race on the inbox key: still one effect.
    renamed = envelope.model_copy(update={"event_id": uuid.uuid4()})
    outcomes = await asyncio.gather(*(handle(renamed) for _ in range(3)), return_exceptions=True)
    assert sum(1 for o in outcomes if o is True) == 1
    assert all(o in (True, False) for o in outcomes)
    async with consumer.db.engine.connect() as conn:
        schools = await conn.scalar(sa.select(sa.func.count()).select_from(reporting_models.school))
        inbox = await conn.scalar(sa.select(sa.func.count()).select_from(reporting_models.inbox))
    assert schools == 1
    assert inbox == 2


async def test_failed_effect_leaves_no_inbox_row(contexts) -> None:
    ctx = contexts["reporting"]
    envelope = EventEnvelope(
        event_id=uuid.uuid4(),
        type="school.registered.v1",
        sequence=1,
        producer="incidents",
        occurred_at=ctx.clock.now(),
        trust_id="TR00001",
        school_urn="100001",
        subject_id="100001",
        subject_revision=1,
        payload=school_payload("100001"),
    )

    async def boom(conn, env) -> None:
        raise RuntimeError("effect failed")

    with pytest.raises(RuntimeError):
        await consume_once(ctx.db, reporting_models.inbox, "reporting", envelope, boom, ctx.clock)
    # The retry applies it: the failed attempt left nothing behind.
    assert await reporting_consumer(ctx)(envelope) is True
