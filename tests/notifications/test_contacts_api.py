"""Contacts from the MIS, escalation contacts and settings through the API, scoped."""

from __future__ import annotations

from tests.notifications.conftest import (
    SCHOOL,
    add_people,
    consume,
    incident_event,
    reports,
    steps,
)
from tests.notifications.test_escalation import local
from tests.support.fixtures import auth

BODY = {
    "school_urn": SCHOOL,
    "name": "Jo Smith",
    "relationship": "social_worker",
    "parental_responsibility": True,
    "priority": 2,
    "email": "jo.smith@la.example.gov.uk",
    "mobile": "07700 900123",
    "preferred_channel": "sms",
    "language": "cy",
}


async def test_mis_upserts_a_contact_with_its_mobile_in_e164(clients, token):
    c, h = clients["notifications"], auth(token("mis_client", schools=[SCHOOL]))
    r = await c.put("/v1/pupils/p-1/contacts/c-9", json=BODY, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["mobile"] == "+447700900123" and r.json()["relationship"] == "social_worker"
    again = await c.put("/v1/pupils/p-1/contacts/c-9", json={**BODY, "priority": 1}, headers=h)
    assert again.json()["priority"] == 1
    listed = await c.get("/v1/pupils/p-1/contacts", headers=h)
    assert [x["contact_id"] for x in listed.json()] == ["c-9"]


async def test_bad_contact_fields_are_named(clients, token):
    c, h = clients["notifications"], auth(token("mis_client"))
    r = await c.put(
        "/v1/pupils/p-1/contacts/c-9",
        json={**BODY, "mobile": "020 7946 0001", "email": "nope"},
        headers=h,
    )
    assert r.status_code == 422
    assert {"/mobile", "/email"} <= {e["pointer"] for e in r.json()["errors"]}
    r = await c.put("/v1/pupils/p-1/contacts/c-9", json={**BODY, "do_not_contact": True}, headers=h)
    assert r.status_code == 422


async def test_contacts_are_scoped(clients, token):
    c = clients["notifications"]
    await c.put("/v1/pupils/p-1/contacts/c-9", json=BODY, headers=auth(token("mis_client")))
    other_school = auth(token("mis_client", schools=["100002"]))
    other_trust = auth(token("mis_client", trust="TR00002"))
    assert (await c.get("/v1/pupils/p-1/contacts", headers=other_school)).status_code == 404
    assert (await c.get("/v1/pupils/p-1/contacts", headers=other_trust)).status_code == 404
    # Writing into another school: 404 for the school, and the contact is not taken over.
    r = await c.put("/v1/pupils/p-1/contacts/c-9", json=BODY, headers=other_school)
    assert r.status_code == 404
    moved = {**BODY, "school_urn": "100002"}
    r = await c.put("/v1/pupils/p-1/contacts/c-9", json=moved, headers=other_school)
    assert r.status_code == 404
    r = await c.get("/v1/pupils/p-1/contacts", headers=auth(token("governor")))
    assert r.status_code == 403


async def test_escalation_contacts_and_settings(clients, token, notif, provider, clock):
    c = clients["notifications"]
    lead = auth(token("school_lead", schools=[SCHOOL]))
    r = await c.put(
        f"/v1/schools/{SCHOOL}/escalation-contacts/dsl/st-1",
        json={"name": "Dee Sl", "mobile": "07700900555"},
        headers=lead,
    )
    assert r.status_code == 200 and r.json()["mobile"] == "+447700900555"
    r = await c.put(
        "/v1/trusts/TR00001/escalation-contacts/st-9",
        json={"name": "Tee Ell", "email": "tl@trust.example.org"},
        headers=auth(token("trust_lead")),
    )
    assert r.status_code == 200
    staff = await c.get(f"/v1/schools/{SCHOOL}/escalation-contacts", headers=lead)
    assert {(s["role"], s["staff_id"]) for s in staff.json()} == {
        ("dsl", "st-1"),
        ("trust_lead", "st-9"),
    }
    r = await c.put(
        "/v1/schools/100002/escalation-contacts/dsl/x",
        json={"name": "X", "email": "x@example.org"},
        headers=lead,
    )
    assert r.status_code == 404
    r = await c.put(
        f"/v1/schools/{SCHOOL}/parent-report-settings",
        json={"approval_mode": "approve_first", "dsl_alert_time": "15:45"},
        headers=lead,
    )
    assert r.status_code == 200 and r.json()["approval_mode"] == "approve_first"
    bad = await c.put(
        f"/v1/schools/{SCHOOL}/parent-report-settings",
        json={"dsl_alert_time": "25:00"},
        headers=lead,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/dsl_alert_time"
    clock.set(local("2026-11-27", 10))
    await add_people(notif)
    await consume(notif, provider, incident_event(local("2026-11-27", 10)))
    [report] = await reports(notif)
    assert report.status == "awaiting_approval"
    assert (await steps(notif))["alert_dsl"].due_at == local("2026-11-27", 15, 45)


async def test_staff_updated_events_name_escalation_contacts(notif, clients, token, clock):
    import uuid

    from services.notifications import service
    from shared.events.envelope import EventEnvelope

    def staff_event(roles, mobile="07700 900777"):
        return EventEnvelope(
            event_id=uuid.uuid4(),
            type="staff.updated.v1",
            sequence=1,
            producer="incidents",
            occurred_at=clock.now(),
            trust_id="TR00001",
            school_urn=SCHOOL,
            subject_id="st-5",
            subject_revision=1,
            payload={
                "staff": {
                    "staff_id": "st-5",
                    "name": "Pat Dee",
                    "mobile": mobile,
                    "escalation_roles": roles,
                }
            },
        )

    handle = service.make_consumer(notif, None)  # type: ignore[arg-type]
    await handle(staff_event(["dsl", "trust_lead"]))
    lead = auth(token("school_lead", schools=[SCHOOL]))
    staff = (
        await clients["notifications"].get(
            f"/v1/schools/{SCHOOL}/escalation-contacts", headers=lead
        )
    ).json()
    assert {(s["role"], s["mobile"], s["active"]) for s in staff} == {
        ("dsl", "+447700900777", True),
        ("trust_lead", "+447700900777", True),
    }
    await handle(staff_event(["head"], mobile="not a number"))
    staff = (
        await clients["notifications"].get(
            f"/v1/schools/{SCHOOL}/escalation-contacts", headers=lead
        )
    ).json()
    assert {(s["role"], s["active"]) for s in staff} == {("dsl", False), ("trust_lead", False)}
