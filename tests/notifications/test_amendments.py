"""A material amendment to the record sends the parents an update; others change no message."""

from __future__ import annotations

import email
import uuid
from email import policy

from tests.notifications.conftest import add_people, consume, incident_event, messages, reports
from tests.notifications.test_escalation import local


def amended(submitted, *, revision: int, material: bool, summary: str):
    payload = {**submitted.payload}
    payload["incident"] = {**payload["incident"], "revision": revision}
    payload["report"] = {**payload["report"], "summary": summary}
    payload["amendment"] = {"material": material, "reason": "Corrected after review."}
    return submitted.model_copy(
        update={
            "event_id": uuid.uuid4(),
            "type": "incident.amended.v1",
            "payload": payload,
            "subject_revision": revision,
        }
    )


async def test_material_amendment_sends_an_update_once(notif, provider, clock, smtp):
    box, _ = smtp
    clock.set(local("2026-11-27", 10))
    await add_people(notif)
    first = incident_event(local("2026-11-27", 10))
    await consume(notif, provider, first)
    clock.set(local("2026-11-27", 15))
    minor = amended(first, revision=2, material=False, summary="Typo fixed.")
    await consume(notif, provider, minor)
    assert len([x for x in box.messages if "parent@" in x[1][0]]) == 1
    change = amended(first, revision=3, material=True, summary="It lasted 20 minutes, not 7.")
    for _ in range(3):
        await consume(notif, provider, change)
    parent_mail = [x for x in box.messages if "parent@" in x[1][0]]
    assert len(parent_mail) == 2
    msg = email.message_from_bytes(parent_mail[1][2], policy=policy.default)
    assert str(msg["Subject"]).startswith("An updated report")
    assert "It lasted 20 minutes, not 7." in msg.get_body(("plain",)).get_content()
    [update] = await messages(notif, step="amend:3")
    assert update.purpose == "update" and update.status == "delivered"
    [report] = await reports(notif)
    assert report.standard == "met" and report.incident_revision == 3
    # An older revision arriving late changes nothing.
    await consume(notif, provider, amended(first, revision=2, material=True, summary="Old."))
    assert len([x for x in box.messages if "parent@" in x[1][0]]) == 2
