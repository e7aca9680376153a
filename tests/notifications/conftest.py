"""Notifications test kit: a real SMTP server (aiosmtpd), incident events, contacts, staff."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from services.notifications import escalation, service
from services.notifications import models as m
from services.notifications.contacts import upsert_contact, upsert_escalation_contact
from services.notifications.providers import DevFileProvider, Routed, SmtpProvider
from shared.clock import FrozenClock
from shared.events.envelope import EventEnvelope
from shared.runtime import ServiceContext

TRUST = "TR00001"
SCHOOL = "100001"
PUPIL = "pupil-0001"
BOUNCE = "bounce.example.org"


@dataclass
class Mailbox:
    """What the SMTP server accepted."""

    messages: list[tuple[str, list[str], bytes]] = field(default_factory=list)


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if address.endswith("@" + BOUNCE):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.box.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    """A real SMTP server on loopback that refuses recipients at bounce.example.org (550)."""
    box = Mailbox()
    port = free_port()
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def notif(contexts: dict[str, ServiceContext]) -> ServiceContext:
    return contexts["notifications"]


@pytest.fixture
def provider(smtp: tuple[Mailbox, int], settings: Any) -> Routed:
    """Email over real SMTP, SMS to the development files."""
    return Routed(SmtpProvider("127.0.0.1", smtp[1]), DevFileProvider(settings.outbox_dir))


def incident_event(
    occurred_at: datetime,
    *,
    pupil_id: str = PUPIL,
    school: str = SCHOOL,
    trust: str = TRUST,
    age: int | None = 10,
    historic: bool = False,
    pupil_name: str = "Alex Smith",
    summary: str = "Pupil became distressed and was guided to a quiet room.",
    parent_report: dict[str, Any] | None = None,
    event_id: uuid.UUID | None = None,
) -> EventEnvelope:
    """An ``incident.submitted.v1`` as the incidents service emits it."""
    incident_id = str(uuid.uuid4())
    payload: dict[str, Any] = {
        "incident": {
            "incident_id": incident_id,
            "revision": 1,
            "status": "submitted",
            "occurred_at": occurred_at.isoformat(),
            "ended_at": (occurred_at + timedelta(minutes=7)).isoformat(),
            "duration_minutes": 7,
            "local_date": occurred_at.date().isoformat(),
            "intervention_type": "seclusion",
            "intervention_label": "time out",
            "vocabulary_version": 1,
            "significant": True,
            "historic": historic,
            "recorded_at": occurred_at.isoformat(),
        },
        "pupil": {"pupil_id": pupil_id, "sen_provision": "K", "age_years": age},
        "school": {
            "urn": school,
            "name": "Oakfield Primary Academy",
            "timezone": "Europe/London",
            "setting_type": "primary",
            "phone": "020 7946 0001",
        },
        "report": {"pupil_name": pupil_name, "summary": summary},
    }
    if parent_report is not None:
        payload["parent_report"] = parent_report
    return EventEnvelope(
        event_id=event_id or uuid.uuid4(),
        type="incident.submitted.v1",
        sequence=1,
        producer="incidents",
        occurred_at=occurred_at,
        trust_id=trust,
        school_urn=school,
        subject_id=incident_id,
        subject_revision=1,
        payload=payload,
    )


async def add_people(
    ctx: ServiceContext,
    *,
    email: str | None = "parent@parents.example.org",
    mobile: str | None = "+447700900001",
    second: bool = False,
    trust: str = TRUST,
    school: str = SCHOOL,
    name: str = "Jo Smith",
) -> None:
    """A parent (and optionally a second contact), the school's DSL and head, a trust lead."""
    async with ctx.db.transaction() as conn:
        await upsert_contact(
            conn,
            ctx.clock,
            trust,
            contact_id="c1",
            pupil_id=PUPIL,
            school_urn=school,
            name=name,
            relationship="mother",
            email=email,
            mobile=mobile,
        )
        if second:
            await upsert_contact(
                conn,
                ctx.clock,
                trust,
                contact_id="c2",
                pupil_id=PUPIL,
                school_urn=school,
                name="Sam Smith",
                relationship="grandparent",
                parental_responsibility=False,
                priority=2,
                mobile="+447700900002",
            )
        for role, sid, urn in (
            ("dsl", "s-dsl", school),
            ("head", "s-head", school),
            ("trust_lead", "s-tl", "*"),
        ):
            await upsert_escalation_contact(
                conn,
                ctx.clock,
                trust,
                school_urn=urn,
                role=role,
                staff_id=sid,
                name=f"{role} person",
                email=f"{role}@staff.example.org",
            )


async def consume(ctx: ServiceContext, provider: Any, envelope: EventEnvelope) -> bool:
    """Hand an event to the notifications consumer."""
    return bool(await service.make_consumer(ctx, provider)(envelope))


async def reports(ctx: ServiceContext) -> list[sa.Row]:
    async with ctx.db.engine.connect() as conn:
        return list((await conn.execute(sa.select(m.parent_report))).all())


async def messages(ctx: ServiceContext, **where: str) -> list[sa.Row]:
    q = sa.select(m.message).order_by(m.message.c.created_at, m.message.c.step)
    for k, v in where.items():
        q = q.where(m.message.c[k] == v)
    async with ctx.db.engine.connect() as conn:
        return list((await conn.execute(q)).all())


async def steps(ctx: ServiceContext) -> dict[str, sa.Row]:
    async with ctx.db.engine.connect() as conn:
        return {r.step: r for r in (await conn.execute(sa.select(m.report_step))).all()}


async def next_due(ctx: ServiceContext) -> datetime | None:
    s = m.report_step
    async with ctx.db.engine.connect() as conn:
        return await conn.scalar(sa.select(sa.func.min(s.c.due_at)).where(s.c.status == "due"))


async def run_until(
    ctx: ServiceContext, provider: Any, clock: FrozenClock, until: datetime
) -> None:
    """Jump the clock to each due step in turn (up to ``until``) and sweep there."""
    while True:
        due = await next_due(ctx)
        if due is None or due > until:
            break
        clock.set(max(due, clock.now()))
        await escalation.sweep(ctx, provider)
    clock.set(until)
    await escalation.sweep(ctx, provider)
