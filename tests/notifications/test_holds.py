"""Holds and exceptions: safeguarding hold, withholding, approve_first, told, 20+, historic."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from services.notifications import escalation
from services.notifications import models as m
from tests.notifications.conftest import (
    SCHOOL,
    TRUST,
    add_people,
    consume,
    incident_event,
    messages,
    reports,
    run_until,
    steps,
)
from tests.notifications.test_escalation import local
from tests.support.fixtures import auth

DAY = "2026-11-27"


async def _held(notif, provider, clock):
    clock.set(local(DAY, 10))
    await add_people(notif)
    hold = {"safeguarding_hold": True, "hold_reason": "Disclosure this morning."}
    await consume(notif, provider, incident_event(local(DAY, 10), parent_report=hold))
    [report] = await reports(notif)
    return report


async def test_safeguarding_hold_sends_nothing_until_the_dsl_releases(
    notif, provider, clock, clients, token, smtp
):
    box, _ = smtp
    report = await _held(notif, provider, clock)
    assert report.status == "held" and report.hold == "safeguarding"
    # The DSL is alerted at once; no parent message.
    assert await messages(notif, recipient_kind="parent") == []
    assert [x.recipient_ref for x in await messages(notif, step="alert_safeguarding")] == [
        "dsl:s-dsl"
    ]
    clock.set(local(DAY, 12))
    await escalation.sweep(notif, provider)
    assert await messages(notif, recipient_kind="parent") == []
    # A school lead may not release it; the DSL may.
    url = f"/v1/parent-reports/{report.report_id}/release"
    lead = await clients["notifications"].post(url, headers=auth(token("school_lead")))
    assert lead.status_code == 403
    r = await clients["notifications"].post(url, headers=auth(token("dsl", schools=[SCHOOL])))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "queued" and r.json()["hold"] is None
    await escalation.sweep(notif, provider)
    assert [to for _, to, _ in box.messages if "parent@" in to[0]] == [
        ["parent@parents.example.org"]
    ]
    [report] = await reports(notif)
    assert report.standard == "met" and report.told_at == local(DAY, 12)
    again = await clients["notifications"].post(url, headers=auth(token("dsl")))
    assert again.status_code == 409


async def test_withheld_never_sends_and_the_local_authority_must_be_told(
    notif, provider, clock, clients, token, smtp
):
    box, _ = smtp
    report = await _held(notif, provider, clock)
    url = f"/v1/parent-reports/{report.report_id}/withhold"
    dsl = auth(token("dsl", schools=[SCHOOL]))
    no_reason = await clients["notifications"].post(url, json={"reason": ""}, headers=dsl)
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["pointer"] == "/reason"
    lead = await clients["notifications"].post(
        url, json={"reason": "x"}, headers=auth(token("trust_lead"))
    )
    assert lead.status_code == 403
    r = await clients["notifications"].post(
        url, json={"reason": "Likely significant harm: see the safeguarding file."}, headers=dsl
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "withheld" and r.json()["standard"] == "withheld"
    # A later release is refused; nothing is ever sent to the parent.
    rel = await clients["notifications"].post(
        f"/v1/parent-reports/{report.report_id}/release", headers=dsl
    )
    assert rel.status_code == 409
    clock.set(local("2026-11-28", 0, 5))
    await escalation.run_due(notif, provider)
    await escalation.sweep(notif, provider)
    assert all("@staff.example.org" in to[0] for _, to, _ in box.messages)
    assert await messages(notif, recipient_kind="parent") == []
    # No parent could be told: a local-authority notification was required; its absence
    # escalated and missed the deadline like a report.
    la = next(x for x in await reports(notif) if x.kind == "local_authority")
    assert la.standard == "missed"
    assert la.standard_reason == "no local-authority notification recorded"
    assert {x.step for x in await messages(notif, report_id=la.report_id)} >= {
        "alert_la",
        "alert_dsl",
        "alert_trust",
    }
    r = await clients["notifications"].post(
        f"/v1/parent-reports/{la.report_id}/local-authority-notification",
        json={
            "local_authority": "Camden",
            "at": local("2026-11-28", 0, 1).isoformat(),
            "method": "phone",
        },
        headers=auth(token("dsl", schools=[SCHOOL])),
    )
    assert r.status_code == 200, r.text
    assert r.json()["told_how"] == "local_authority" and r.json()["status"] == "told"


async def test_approve_first_school_waits_for_a_lead(notif, provider, clock, clients, token):
    clock.set(local(DAY, 9))
    async with notif.db.transaction() as conn:
        await conn.execute(
            m.report_policy.insert().values(
                trust_id=TRUST,
                school_urn=SCHOOL,
                approval_mode="approve_first",
                updated_at=clock.now(),
            )
        )
    await add_people(notif)
    await consume(notif, provider, incident_event(local(DAY, 9)))
    [report] = await reports(notif)
    assert report.status == "awaiting_approval"
    assert await messages(notif, recipient_kind="parent") == []
    r = await clients["notifications"].post(
        f"/v1/parent-reports/{report.report_id}/approve", headers=auth(token("school_lead"))
    )
    assert r.status_code == 200, r.text
    await escalation.sweep(notif, provider)
    [report] = await reports(notif)
    assert report.standard == "met"


async def test_already_told_in_writing_is_recorded_not_messaged(notif, provider, clock):
    clock.set(local(DAY, 15))
    await add_people(notif)
    told = {
        "told_in_writing": [
            {
                "contact_id": "c1",
                "told_at": local(DAY, 14).isoformat(),
                "how": "letter",
                "by": "Class teacher",
            }
        ]
    }
    await consume(notif, provider, incident_event(local(DAY, 10), parent_report=told))
    [report] = await reports(notif)
    assert report.status == "told" and report.standard == "met"
    assert report.told_at == local(DAY, 14)
    assert await messages(notif) == [] and await steps(notif) == {}


async def test_pupil_twenty_or_over_not_required_and_historic_nothing(notif, provider, clock):
    clock.set(local(DAY, 10))
    await add_people(notif)
    await consume(notif, provider, incident_event(local(DAY, 9), historic=True))
    assert await reports(notif) == []
    await consume(notif, provider, incident_event(local(DAY, 9), age=20))
    [report] = await reports(notif)
    assert report.status == "not_required" and report.standard == "not_required"
    assert await messages(notif) == []


async def test_verbal_and_written_handed_over(notif, provider, clock, clients, token):
    clock.set(local(DAY, 10))
    await add_people(notif, email=None, mobile=None)
    await consume(notif, provider, incident_event(local(DAY, 10)))
    [report] = await reports(notif)
    url = f"/v1/parent-reports/{report.report_id}/contacts"
    clock.set(local(DAY, 15))
    h = auth(token("recorder", schools=[SCHOOL]))
    future = {"method": "phone", "at": local(DAY, 16).isoformat()}
    bad = await clients["notifications"].post(url, json=future, headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/at"
    r = await clients["notifications"].post(
        url, json={"method": "phone", "at": local(DAY, 14).isoformat()}, headers=h
    )
    assert r.status_code == 200 and r.json()["standard"] is None  # verbal is not written
    r = await clients["notifications"].post(
        url, json={"method": "written_handed_over", "at": local(DAY, 15).isoformat()}, headers=h
    )
    body = r.json()
    assert body["standard"] == "met" and body["told_how"] == "letter"
    kinds = [e["kind"] for e in body["timeline"]]
    assert kinds[0] == "created" and "contact_recorded" in kinds and kinds[-1] == "completed"


async def test_reports_are_scoped_to_trust_and_school(notif, provider, clock, clients, token):
    report = await _held(notif, provider, clock)
    c = clients["notifications"]
    path = f"/v1/parent-reports/{report.report_id}"
    assert (await c.get(path, headers=auth(token("trust_lead")))).status_code == 200
    other_trust = auth(token("trust_lead", trust="TR00002"))
    other_school = auth(token("dsl", schools=["100002"]))
    for h in (other_trust, other_school):
        assert (await c.get(path, headers=h)).status_code == 404
        assert (await c.post(path + "/release", headers=h)).status_code in (403, 404)
        inc = await c.get(f"/v1/incidents/{report.incident_id}/parent-reports", headers=h)
        assert inc.status_code == 404
    dsl_other = await c.post(path + "/release", headers=other_school)
    assert dsl_other.status_code == 404
    listing = await c.get(f"/v1/schools/{SCHOOL}/parent-reports", headers=other_school)
    assert listing.status_code == 404
    own = await c.get(f"/v1/schools/{SCHOOL}/parent-reports", headers=auth(token("trust_lead")))
    assert [x["report_id"] for x in own.json()["items"]] == [report.report_id]
    assert (await c.get(path, headers=auth(token("governor")))).status_code == 403


async def test_timeline_of_a_met_report(notif, provider, clock, clients, token):
    clock.set(local(DAY, 10))
    await add_people(notif)
    event = incident_event(local(DAY, 10))
    await consume(notif, provider, event)
    r = await clients["notifications"].get(
        f"/v1/incidents/{event.subject_id}/parent-reports", headers=auth(token("trust_lead"))
    )
    [view] = r.json()
    assert view["standard"] == "met"
    kinds = [e["kind"] for e in view["timeline"]]
    assert kinds[0] == "created"
    assert {"message_created", "message_delivered", "told", "completed"} <= set(kinds)
    assert all(datetime.fromisoformat(e["at"]) == local(DAY, 10) for e in view["timeline"])
    assert {mm["channel"] for mm in view["messages"]} == {"email", "sms"}
    async with notif.db.engine.connect() as conn:
        types = (await conn.scalars(sa.select(m.outbox.c.type))).all()
    assert sorted(types) == sorted(
        [
            "parent_report.sent.v1",
            "parent_report.delivered.v1",
            "parent_report.delivered.v1",
            "parent_report.completed.v1",
        ]
    )


async def test_no_contact_on_record_escalates_and_misses(notif, provider, clock, settings):
    clock.set(local(DAY, 10))
    await add_people(notif)
    async with notif.db.transaction() as conn:
        await conn.execute(m.contact.delete())
    await consume(notif, provider, incident_event(local(DAY, 10)))
    [report] = await reports(notif)
    assert report.kind == "unknown_contact" and report.status == "queued"
    await run_until(notif, provider, clock, local("2026-11-28", 0, 1))
    [report] = await reports(notif)
    assert report.standard == "missed"
    assert report.standard_reason == "no contact with parental responsibility on record"
    assert {x.step for x in await messages(notif, recipient_kind="staff")} == {
        "alert_dsl",
        "alert_trust",
    }


async def test_resend_is_a_new_step_each_time(notif, provider, clock, clients, token, smtp):
    box, _ = smtp
    clock.set(local(DAY, 10))
    await add_people(notif)
    await consume(notif, provider, incident_event(local(DAY, 10)))
    [report] = await reports(notif)
    url = f"/v1/parent-reports/{report.report_id}/resend"
    r = await clients["notifications"].post(url, headers=auth(token("recorder")))
    assert r.status_code == 403
    r = await clients["notifications"].post(url, headers=auth(token("school_lead")))
    assert r.status_code == 202 and r.json()["step"] == "resend:1"
    await escalation.sweep(notif, provider)
    await escalation.sweep(notif, provider)
    assert len([x for x in box.messages if "parent@" in x[1][0]]) == 2
    r = await clients["notifications"].post(url, headers=auth(token("school_lead")))
    assert r.json()["step"] == "resend:2"


def test_provider_chosen_by_settings(settings) -> None:
    from services.notifications.providers import (
        DevFileProvider,
        NotifyProvider,
        Routed,
        provider_for,
    )
    from tests.notifications.notify_standin import API_KEY

    assert isinstance(provider_for(settings), DevFileProvider)
    smtp = provider_for(settings.model_copy(update={"smtp_host": "127.0.0.1"}))
    assert isinstance(smtp, Routed) and smtp.name == "smtp+dev"
    notify = provider_for(settings.model_copy(update={"notify_api_key": API_KEY}))
    assert isinstance(notify, NotifyProvider)
    both = provider_for(
        settings.model_copy(update={"notify_api_key": API_KEY, "smtp_host": "127.0.0.1"})
    )
    assert isinstance(both, Routed) and both.name == "smtp+notify"


async def test_only_parent_barred_from_contact_local_authority_required(notif, provider, clock):
    clock.set(local(DAY, 10))
    await add_people(notif)
    async with notif.db.transaction() as conn:
        await conn.execute(
            m.contact.update().values(do_not_contact=True, do_not_contact_reason="Court order.")
        )
    await consume(notif, provider, incident_event(local(DAY, 10)))
    [report] = await reports(notif)
    assert report.kind == "local_authority" and report.contact_id == "local-authority"
    assert await messages(notif, recipient_kind="parent") == []
    assert [x.recipient_ref for x in await messages(notif, step="alert_la")] == ["dsl:s-dsl"]


async def test_a_historic_report_is_recorded_as_history_with_the_live_rule(notif, provider, clock):
    """How a parent was told before the school used Candour: kept, dated, judged, never sent."""
    from services.notifications.historic import record_historic_report
    from services.notifications.ledger import load

    clock.set(local(DAY, 18))
    await add_people(notif)
    [contact] = (await _contacts(notif))[:1]
    outcomes = {}
    for n, (hours, expected) in enumerate(((2, "met"), (26, "missed"))):
        occurred = local(DAY, 10)
        sent = occurred + timedelta(hours=hours)
        async with notif.db.transaction() as conn:
            for _ in range(2):  # recorded twice: the second changes nothing
                rid = await record_historic_report(
                    conn,
                    trust_id=TRUST,
                    school_urn=SCHOOL,
                    timezone="Europe/London",
                    incident_id=f"historic-{n}",
                    incident_revision=1,
                    pupil_id=contact.pupil_id,
                    occurred_at=occurred,
                    contact_id=contact.contact_id,
                    channel="email",
                    sent_at=sent,
                    delivered_at=sent + timedelta(minutes=1),
                )
            report = await load(conn, TRUST, rid)
        assert report is not None and report.told_at == sent + timedelta(minutes=1)
        outcomes[rid] = report.standard
        assert report.standard == expected
    assert await messages(notif) == []  # nothing was sent to anyone
    o = m.outbox
    async with notif.db.engine.connect() as conn:
        types = [
            t
            for (t,) in await conn.execute(
                sa.select(o.c.type).where(o.c.subject_id.in_(list(outcomes))).order_by(o.c.id)
            )
        ]
    assert (
        types
        == [
            "parent_report.sent.v1",
            "parent_report.delivered.v1",
            "parent_report.completed.v1",
        ]
        * 2
    )


async def _contacts(ctx):
    async with ctx.db.engine.connect() as conn:
        return list((await conn.execute(sa.select(m.contact).order_by(m.contact.c.priority))).all())
