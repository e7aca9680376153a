"""The written report: free text escaped, headers not injectable, school templates sandboxed."""

from __future__ import annotations

import email
from email import policy

from tests.notifications.conftest import add_people, consume, incident_event
from tests.notifications.test_escalation import local


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
