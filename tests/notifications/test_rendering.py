"""The written report: free text escaped, headers not injectable, school templates sandboxed."""

from __future__ import annotations

import email
from datetime import datetime
from email import policy

from services.notifications.models import contact as contact_table
from tests.notifications.conftest import SCHOOL, add_people, consume, incident_event, messages
from tests.notifications.test_escalation import local
from tests.support.fixtures import auth


async def test_script_and_crlf_arrive_escaped_and_headers_are_not_injectable(
    notif, provider, clock, smtp
):
    box, _ = smtp
    clock.set(local("2026-11-27", 10))
    await add_people(notif, name="Jo <script>alert(1)</script>\r\nBcc: victim@evil.example")
    event = incident_event(
        local("2026-11-27", 10),
        pupil_name="Alex <script>steal()</script>",
        summary="Line one\r\nBcc: attacker@evil.example\r\n<img src=x onerror=alert(2)>",
    )
    event.payload["school"]["name"] = "Oakfield\r\nBcc: school@evil.example"
    await consume(notif, provider, event)
    [(_, rcpt, raw)] = [x for x in box.messages if "parent@" in x[1][0]]
    assert rcpt == ["parent@parents.example.org"]
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None and msg.get_all("To") == ["parent@parents.example.org"]
    assert "\n" not in str(msg["Subject"]) and "\n" not in str(msg["From"])
    assert all("\n" not in str(v) and "\r" not in str(v) for v in msg.values())
    assert {k.lower() for k in msg.keys()} <= {
        "from",
        "to",
        "subject",
        "message-id",
        "x-candour-message",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
    html = msg.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;steal()&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "Jo &lt;script&gt;" in html
    text = msg.get_body(("plain",)).get_content()
    assert "Alex <script>steal()</script>" in text  # plain text: shown, never interpreted


async def test_a_school_template_reaching_for_python_objects_is_refused(clients, token):
    c, h = clients["notifications"], auth(token("school_lead", schools=[SCHOOL]))
    url = f"/v1/schools/{SCHOOL}/templates/parent_report.txt.j2"
    for source in (
        "{{ ''.__class__.__mro__ }}",
        "{{ summary.__class__.__mro__[1].__subclasses__() }}",
        "{{ pupil_name.format.__globals__ }}",
        "{{ secret_setting }}",
        "{% for x in %}",
    ):
        r = await c.put(url, json={"source": source}, headers=h)
        assert r.status_code == 422, source
        assert r.json()["errors"][0]["pointer"] == "/source"
        if "__" in source:
            assert "refused by the sandbox" in r.json()["errors"][0]["detail"]
    other = await c.put(
        "/v1/schools/100002/templates/parent_report.txt.j2", json={"source": "Hi"}, headers=h
    )
    assert other.status_code == 404


async def test_a_school_template_is_used_and_its_html_autoescaped(
    notif, provider, clock, smtp, clients, token
):
    box, _ = smtp
    h = auth(token("school_lead", schools=[SCHOOL]))
    html = "<p>Hello {{ contact_name }}, about {{ pupil_name }}: {{ summary }}</p>"
    r = await clients["notifications"].put(
        f"/v1/schools/{SCHOOL}/templates/parent_report.html.j2", json={"source": html}, headers=h
    )
    assert r.status_code == 200, r.text
    clock.set(local("2026-11-27", 10))
    await add_people(notif)
    await consume(
        notif, provider, incident_event(local("2026-11-27", 10), summary="<b>bold</b> claim")
    )
    [(_, _, raw)] = [x for x in box.messages if "parent@" in x[1][0]]
    msg = email.message_from_bytes(raw, policy=policy.default)
    body = msg.get_body(("html",)).get_content()
    assert body.startswith("<p>Hello Jo Smith, about Alex Smith:")
    assert "&lt;b&gt;bold&lt;/b&gt; claim" in body


async def test_read_confirmation_link_signed_idempotent_expiring(
    notif, provider, clock, smtp, clients
):
    box, _ = smtp
    clock.set(local("2026-11-27", 10))
    await add_people(notif)
    await consume(notif, provider, incident_event(local("2026-11-27", 10)))
    [(_, _, raw)] = [x for x in box.messages if "parent@" in x[1][0]]
    text = email.message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
    link = next(w for w in text.split() if "/v1/read/" in w)
    path = "/v1/read/" + link.split("/v1/read/")[1]
    c = clients["notifications"]
    page = await c.get(path)
    assert page.status_code == 200 and "<form method=post>" in page.text
    assert (await reports_read(notif)) == [None]  # a GET confirms nothing
    clock.set(local("2026-11-27", 11))
    first = await c.post(path)
    assert first.status_code == 200 and first.json()["first"] is True
    clock.set(local("2026-11-27", 12))
    again = await c.post(path)
    assert again.json()["first"] is False
    assert datetime.fromisoformat(again.json()["read_at"]) == local("2026-11-27", 11)
    assert await reports_read(notif) == [local("2026-11-27", 11)]
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert (await c.post(tampered)).status_code == 404
    clock.set(local("2027-01-15", 12))
    assert (await c.post(path)).status_code == 410


async def reports_read(notif):
    return [x.read_at for x in await messages(notif, channel="email", recipient_kind="parent")]


async def test_fields_a_newer_producer_adds_are_read_not_fatal(notif, provider, clock, smtp):
    box, _ = smtp
    clock.set(local("2026-11-27", 10))
    await add_people(notif)
    event = incident_event(local("2026-11-27", 10))
    event.payload["report"]["injuries"] = ["A graze to the left knee; first aid given."]
    event.payload["report"]["some_future_field"] = {"x": 1}
    event.payload["incident"]["another_future_field"] = True
    event.payload["parent_report"] = {"safeguarding_hold": False}
    assert await consume(notif, provider, event)
    [(_, _, raw)] = [x for x in box.messages if "parent@" in x[1][0]]
    text = email.message_from_bytes(raw, policy=policy.default).get_body(("plain",)).get_content()
    assert "Injuries: A graze to the left knee; first aid given." in text


async def test_a_parent_who_asked_for_another_language_gets_that_version(
    notif, provider, clock, smtp, clients, token
):
    """A trust's Welsh text template reaches a parent whose contact asks for Welsh (cy-GB),
    over the school's English adaptation; what has no Welsh version (the HTML part) stays
    as it is; the same parent back on English gets the school's adaptation."""
    box, _ = smtp
    c = clients["notifications"]
    tl, sl = auth(token("trust_lead")), auth(token("school_lead", schools=[SCHOOL]))
    welsh = "Annwyl {{ contact_name }}, digwyddiad yn {{ school_name }}."
    r = await c.put(
        "/v1/trusts/TR00001/templates/parent_report.cy.txt.j2", json={"source": welsh}, headers=tl
    )
    assert r.status_code == 200, r.text
    r = await c.put(
        f"/v1/schools/{SCHOOL}/templates/parent_report.txt.j2",
        json={"source": "Dear {{ contact_name }}, adapted."},
        headers=sl,
    )
    assert r.status_code == 200, r.text
    bad = await c.put(
        "/v1/trusts/TR00001/templates/parent_report.cymraeg.txt.j2",
        json={"source": "x"},
        headers=tl,
    )
    assert bad.status_code == 422
    clock.set(local("2026-11-27", 10))
    await add_people(notif)
    async with notif.db.transaction() as conn:
        await conn.execute(
            contact_table.update()
            .where(contact_table.c.contact_id == "c1")
            .values(language="cy-GB")
        )
    await consume(notif, provider, incident_event(local("2026-11-27", 10)))
    [(_, _, raw)] = [x for x in box.messages if "parent@" in x[1][0]]
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg.get_body(("plain",)).get_content().startswith("Annwyl Jo Smith, digwyddiad yn")
    assert "Jo Smith" in msg.get_body(("html",)).get_content()  # the trust's English HTML
    async with notif.db.transaction() as conn:
        await conn.execute(
            contact_table.update().where(contact_table.c.contact_id == "c1").values(language="en")
        )
    box.messages.clear()
    clock.set(local("2026-11-27", 11))
    await consume(notif, provider, incident_event(local("2026-11-27", 11)))
    [(_, _, raw)] = [x for x in box.messages if "parent@" in x[1][0]]
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert msg.get_body(("plain",)).get_content().startswith("Dear Jo Smith, adapted.")
