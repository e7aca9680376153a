"""GOV.UK Notify: our tokens, receipts, retries, bounded failures, reconciliation by reference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from notifications_python_client.authentication import decode_jwt_token, get_token_issuer
from notifications_python_client.errors import TokenError

from services.notifications import escalation, sending
from services.notifications import models as m
from services.notifications.providers import NotifyProvider, Routed, SmtpProvider
from services.notifications.providers.base import SendResult
from shared.auth.jwt import notify_key_parts, notify_token
from tests.notifications.conftest import add_people, consume, incident_event, messages, reports
from tests.notifications.notify_standin import (
    API_KEY,
    EMAIL_TEMPLATE,
    SECRET,
    SERVICE_ID,
    SMS_TEMPLATE,
    NotifyStandIn,
)
from tests.notifications.test_escalation import local

CALLBACK = "/v1/providers/notify/receipts"
CB_TOKEN = "callback-token-0123456789"


@pytest.fixture
async def standin():
    server = NotifyStandIn()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def notify(standin) -> NotifyProvider:
    return NotifyProvider(
        API_KEY,
        base_url=standin.url,
        email_template_id=EMAIL_TEMPLATE,
        sms_template_id=SMS_TEMPLATE,
        backoff=0.01,
        timeout=0.5,
    )


def test_our_token_is_what_notify_expects() -> None:
    assert notify_key_parts(API_KEY) == (SERVICE_ID, SECRET)
    token = notify_token(API_KEY, datetime.now(UTC))
    assert decode_jwt_token(token, SECRET) is True  # signature and iat window checked
    assert get_token_issuer(token) == SERVICE_ID
    stale = notify_token(API_KEY, datetime.now(UTC) - timedelta(minutes=5))
    with pytest.raises(TokenError):
        decode_jwt_token(stale, SECRET)
    with pytest.raises(ValueError):
        notify_key_parts("not-a-key")


async def test_notify_email_and_sms_delivered_by_receipt(notif, notify, standin, clock, clients):
    notif.settings.notify_callback_token = CB_TOKEN
    clock.set(local("2026-11-27", 10))
    await add_people(notif)
    await consume(notif, notify, incident_event(local("2026-11-27", 10)))
    sent = await messages(notif, recipient_kind="parent")
    assert {(x.channel, x.status, x.provider) for x in sent} == {
        ("email", "sending", "notify"),
        ("sms", "sending", "notify"),
    }
    assert len(standin.tokens_seen) == 2 and set(standin.tokens_seen) == {SERVICE_ID}
    email = next(x for x in sent if x.channel == "email")
    c = clients["notifications"]
    bad = await standin.deliver(email.message_id, "delivered", c, CALLBACK, "wrong")
    assert bad.status_code == 401
    [report] = await reports(notif)
    assert report.told_at is None
    clock.set(local("2026-11-27", 10, 2))
    ok = await standin.deliver(
        email.message_id,
        "delivered",
        c,
        CALLBACK,
        CB_TOKEN,
        completed_at=local("2026-11-27", 10, 1),
    )
    assert ok.status_code == 200 and ok.json()["status"] == "delivered"
    [report] = await reports(notif)
    assert report.standard == "met" and report.told_at == local("2026-11-27", 10, 1)
    async with notif.db.engine.connect() as conn:
        before = await conn.scalar(sa.select(sa.func.count()).select_from(m.outbox))
    again = await standin.deliver(email.message_id, "delivered", c, CALLBACK, CB_TOKEN)
    assert again.status_code == 200
    async with notif.db.engine.connect() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(m.outbox)) == before


async def test_rate_limit_retried_bad_request_permanent_server_errors_bounded(
    notif, notify, standin, clock
):
    at = datetime(2026, 11, 27, 10, tzinfo=UTC)
    r = await notify.send_sms("ref-1", "ratelimit-07700900001", "hello", at)
    assert r.status == "sending" and standin.requests["ratelimit-07700900001"] == 3
    r = await notify.send_sms("ref-2", "invalid-1", "hello", at)
    assert r.status == "permanent-failure" and r.error.startswith("400 BadRequestError")
    assert standin.requests["invalid-1"] == 1  # a 4xx is never retried
    r = await notify.send_sms("ref-3", "down-1", "hello", at)
    assert r.status == "temporary-failure" and standin.requests["down-1"] == notify.tries
    r = await notify.send_sms("ref-4", "flaky-1", "hello", at)
    assert r.status == "sending" and standin.requests["flaky-1"] == 2


async def test_a_timed_out_send_is_looked_up_not_sent_twice(notif, notify, standin):
    at = datetime(2026, 11, 27, 10, tzinfo=UTC)
    r = await notify.send_sms("ref-slow", "slow-07700900009", "hello", at)
    assert r.status == "sending"
    assert [n["reference"] for n in standin.notifications.values()] == ["ref-slow"]
    assert standin.requests["slow-07700900009"] == 1


async def test_retries_are_bounded_across_sweeps(notif, notify, standin, clock):
    clock.set(local("2026-11-27", 10))
    await add_people(notif, email=None, mobile="down-07700900001")
    await consume(notif, notify, incident_event(local("2026-11-27", 10)))
    for _ in range(12):
        clock.advance(minutes=20)
        await escalation.sweep(notif, notify)
    sms = await messages(notif, channel="sms", recipient_kind="parent")
    assert {x.step for x in sms} == {"initial", "fallback"}
    assert all(x.status == "technical-failure" for x in sms)
    assert all(x.attempts == sending.MAX_ATTEMPTS for x in sms)
    assert standin.requests["down-07700900001"] == len(sms) * sending.MAX_ATTEMPTS * notify.tries


async def _crashed(notif, clock, provider, channel: str) -> str:
    """A message handed over and then a crash before its answer was stored."""
    msg = (await messages(notif, channel=channel, recipient_kind="parent"))[0]
    async with notif.db.transaction() as conn:
        await conn.execute(
            m.message.update()
            .where(m.message.c.message_id == msg.message_id)
            .values(status=sending.SUBMITTING, updated_at=clock.now())
        )
    return str(msg.message_id)


async def test_after_a_crash_notify_is_asked_by_reference(notif, notify, standin, clock):
    clock.set(local("2026-11-27", 10))
    await add_people(notif, mobile=None)
    await consume(notif, notify, incident_event(local("2026-11-27", 10)))
    message_id = await _crashed(notif, clock, notify, "email")
    clock.advance(minutes=6)
    await escalation.sweep(notif, notify)
    [email] = await messages(notif, channel="email", recipient_kind="parent")
    assert email.status == "sending" and email.message_id == message_id
    assert len([n for n in standin.notifications.values() if n["reference"] == message_id]) == 1


async def test_after_a_crash_smtp_is_unknown_and_escalated_never_resent(
    notif, clock, smtp, settings
):
    from services.notifications.providers import DevFileProvider

    box, port = smtp
    provider = Routed(SmtpProvider("127.0.0.1", port), DevFileProvider(settings.outbox_dir))
    clock.set(local("2026-11-27", 10))
    await add_people(notif, mobile=None)
    await consume(notif, provider, incident_event(local("2026-11-27", 10)))
    message_id = await _crashed(notif, clock, provider, "email")
    async with notif.db.transaction() as conn:  # and the report not yet told
        await conn.execute(m.parent_report.update().values(told_at=None, standard=None))
    clock.advance(minutes=6)
    await escalation.sweep(notif, provider)
    [email] = await messages(notif, channel="email", recipient_kind="parent")
    assert email.message_id == message_id and email.status == "unknown"
    assert len([x for x in box.messages if "parent@" in x[1][0]]) == 1  # never sent again
    alerts = [
        x for x in await messages(notif, recipient_kind="staff") if x.step.startswith("unknown:")
    ]
    assert {a.recipient_ref for a in alerts} == {"dsl:s-dsl", "head:s-head"}
    r = await sending.record_result(
        notif, "TR00001", message_id, SendResult(message_id, "delivered"), "smtp"
    )
    assert r == "delivered"  # a later confirmation is still recorded


async def test_a_lost_receipt_is_made_good_by_asking_notify(notif, notify, standin, clock):
    clock.set(local("2026-11-27", 10))
    await add_people(notif, mobile=None)
    await consume(notif, notify, incident_event(local("2026-11-27", 10)))
    [email] = await messages(notif, channel="email", recipient_kind="parent")
    n = next(x for x in standin.notifications.values() if x["reference"] == email.message_id)
    n.update(status="delivered", completed_at="2026-11-27T10:03:00.000000Z")  # no callback
    clock.set(local("2026-11-27", 10, 2))
    await escalation.sweep(notif, notify)
    assert (await reports(notif))[0].told_at is None  # not asked yet: too soon
    clock.set(local("2026-11-27", 10, 6))
    await escalation.sweep(notif, notify)
    [report] = await reports(notif)
    assert report.standard == "met" and report.told_at == local("2026-11-27", 10, 3)
