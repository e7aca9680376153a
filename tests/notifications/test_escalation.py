"""The same-day clock: delivered and met; a failing email escalated to missed, also across DST."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.notifications import clock as cl
from tests.notifications.conftest import (
    BOUNCE,
    add_people,
    consume,
    incident_event,
    messages,
    reports,
    run_until,
    steps,
)

LONDON = ZoneInfo("Europe/London")


def local(day: str, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    """A London wall-clock time on ``day``."""
    return datetime.combine(datetime.fromisoformat(day).date(), time(hh, mm, ss), LONDON)


async def test_ten_oclock_incident_email_and_sms_delivered_met(notif, provider, clock, smtp):
    box, _ = smtp
    clock.set(local("2026-11-27", 10, 5))
    await add_people(notif)
    assert await consume(notif, provider, incident_event(local("2026-11-27", 10)))
    [report] = await reports(notif)
    assert report.standard == "met" and report.told_how == "email"
    assert report.told_at == clock.now() and report.sent_at == clock.now()
    sent = await messages(notif, report_id=report.report_id)
    assert {(x.channel, x.status) for x in sent} == {("email", "delivered"), ("sms", "delivered")}
    assert len(box.messages) == 1 and box.messages[0][1] == ["parent@parents.example.org"]
    # Nothing else is due: no alerts for a report already told.
    assert {s.status for s in (await steps(notif)).values()} <= {"done", "skipped"}
    await run_until(notif, provider, clock, local("2026-11-28", 9))
    assert len(await messages(notif, recipient_kind="staff")) == 0


@pytest.mark.parametrize("day", ["2026-11-27", "2026-10-25"])  # 25 Oct 2026: clocks go back
async def test_failing_email_falls_back_alerts_and_misses(notif, provider, clock, day):
    clock.set(local(day, 10))
    await add_people(notif, email=f"jo@{BOUNCE}")
    await consume(notif, provider, incident_event(local(day, 10)))
    [report] = await reports(notif)
    email = (await messages(notif, channel="email", recipient_kind="parent"))[0]
    assert email.status == "permanent-failure"
    sms = await messages(notif, channel="sms")
    # The prompt with the email, and at once (the email is known lost) the call-us fallback.
    assert {(x.step, x.purpose) for x in sms} == {("initial", "prompt"), ("fallback", "call_us")}
    assert all(x.status == "delivered" for x in sms)

    await run_until(notif, provider, clock, local(day, 16, 29))
    assert await messages(notif, recipient_kind="staff") == []
    await run_until(notif, provider, clock, local(day, 17))
    alerts = await messages(notif, recipient_kind="staff")
    assert {a.recipient_ref for a in alerts} == {"dsl:s-dsl", "head:s-head"}
    assert {a.created_at for a in alerts} == {local(day, 16, 30)}

    await run_until(notif, provider, clock, local(day, 23, 59))
    trust = await messages(notif, step="alert_trust")
    assert [t.recipient_ref for t in trust] == ["trust_lead:s-tl"]
    assert trust[0].created_at == local(day, 18)
    [report] = await reports(notif)
    assert report.standard is None  # not yet missed before midnight

    next_day = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
    await run_until(notif, provider, clock, local(next_day, 0, 1))
    [report] = await reports(notif)
    assert report.standard == "missed"
    assert report.standard_reason == "email failed permanently"
    assert report.told_at is None and report.status in ("queued", "sent")  # still open
    deadline = (await steps(notif))["deadline"]
    assert deadline.done_at == local(next_day, 0) == report.deadline_at
    # The missed report keeps being pursued: DSL and head again at 08:00 the next day.
    await run_until(notif, provider, clock, local(next_day, 9))
    pursued = [x for x in await messages(notif) if x.step.startswith("pursue:")]
    assert {x.created_at for x in pursued} == {local(next_day, 8)}
    assert len(pursued) == 2


def test_dst_day_is_25_hours_and_times_are_local() -> None:
    day = datetime(2026, 10, 25).date()
    start = cl.at_local(day, time(0, 0), "Europe/London")
    assert (cl.end_of_day(day, "Europe/London") - start) == timedelta(hours=25)
    # 16:30 on the day the clocks go back is 16:30 UTC (GMT), not 15:30.
    assert cl.at_local(day, time(16, 30), "Europe/London").hour == 16
    # An incident at 00:45 BST (23:45 UTC the day before) belongs to 25 October.
    early = datetime(2026, 10, 24, 23, 45, tzinfo=ZoneInfo("UTC"))
    assert cl.local_date(early, "Europe/London") == day
    spring = datetime(2026, 3, 29).date()
    assert cl.end_of_day(spring, "Europe/London") - cl.at_local(
        spring, time(0, 0), "Europe/London"
    ) == timedelta(hours=23)


async def test_early_incident_on_dst_day_and_quiet_hours(notif, provider, clock):
    occurred = datetime(2026, 10, 24, 23, 45, tzinfo=ZoneInfo("UTC"))  # 00:45 BST, 25 Oct
    clock.set(occurred + timedelta(minutes=5))
    await add_people(notif, email=f"jo@{BOUNCE}")
    await consume(notif, provider, incident_event(occurred))
    plan = await steps(notif)
    assert plan["alert_dsl"].due_at == datetime(2026, 10, 25, 16, 30, tzinfo=ZoneInfo("UTC"))
    assert plan["deadline"].due_at == datetime(2026, 10, 26, 0, 0, tzinfo=ZoneInfo("UTC"))
    # Quiet hours (21:00-07:00): no SMS until 07:00 GMT.
    assert await messages(notif, channel="sms") == []
    assert plan["initial_sms"].due_at == datetime(2026, 10, 25, 7, 0, tzinfo=ZoneInfo("UTC"))
    await run_until(notif, provider, clock, datetime(2026, 10, 25, 7, 5, tzinfo=ZoneInfo("UTC")))
    sms = await messages(notif, channel="sms")
    assert sms and {x.created_at for x in sms} == {
        datetime(2026, 10, 25, 7, 0, tzinfo=ZoneInfo("UTC"))
    }


async def test_same_event_three_times_one_message_per_parent(notif, provider, clock, smtp):
    box, _ = smtp
    clock.set(local("2026-11-27", 10))
    await add_people(notif)
    event = incident_event(local("2026-11-27", 10))
    results = [await consume(notif, provider, event) for _ in range(3)]
    assert results == [True, False, False]
    assert len(await reports(notif)) == 1
    assert len(box.messages) == 1
    assert len(await messages(notif, channel="sms")) == 1


async def test_next_contact_after_an_hour_without_delivery(notif, provider, clock):
    clock.set(local("2026-11-27", 10))
    await add_people(notif, email=None, second=True)  # no email: no written report possible
    await consume(notif, provider, incident_event(local("2026-11-27", 10)))
    await run_until(notif, provider, clock, local("2026-11-27", 11, 30))
    nxt = await messages(notif, step="next_contact")
    assert [(x.recipient_ref, x.created_at) for x in nxt] == [("c2", local("2026-11-27", 11))]


async def test_recorded_the_next_day_the_parent_comes_first_and_it_is_missed_late(
    notif, provider, clock
):
    clock.set(local("2026-11-28", 9))
    await add_people(notif)
    await consume(notif, provider, incident_event(local("2026-11-27", 15)))
    [report] = await reports(notif)
    assert report.told_at == local("2026-11-28", 9) and report.standard == "missed"
    assert report.standard_reason == "written report reached the parent late"
    plan = await steps(notif)
    assert plan["initial"].status == "done"
    assert plan["deadline"].status == "skipped" and plan["alert_dsl"].status == "skipped"
    assert await messages(notif, recipient_kind="staff") == []


async def test_staff_alerts_wait_while_the_parent_is_being_told(notif, provider, clock):
    """A step to the parent that another worker holds (or a message to them not yet handed
    over) holds the staff alerts back: a late record has every step due at once, and the
    staff must not be alerted about a parent who is being told this moment."""

    from services.notifications import escalation
    from services.notifications import models as m

    day = "2026-11-27"
    clock.set(local(day, 10))
    await add_people(notif, email=f"jo@{BOUNCE}")
    await consume(notif, provider, incident_event(local(day, 10)))
    s = m.report_step
    async with notif.db.transaction() as conn:
        await conn.execute(s.update().where(s.c.step == "fallback").values(status="running"))
    clock.set(local(day, 16, 31))
    await escalation.sweep(notif, provider)
    assert await messages(notif, recipient_kind="staff") == []
    assert (await steps(notif))["alert_dsl"].status == "due"
    async with notif.db.transaction() as conn:
        await conn.execute(s.update().where(s.c.step == "fallback").values(status="done"))
    clock.set(local(day, 16, 32))
    await escalation.sweep(notif, provider)
    alerts = await messages(notif, step="alert_dsl")
    assert {a.recipient_ref for a in alerts} == {"dsl:s-dsl", "head:s-head"}
