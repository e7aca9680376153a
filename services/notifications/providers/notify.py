"""GOV.UK Notify over its REST API (httpx), email and SMS.

4xx answers are permanent (the request itself is wrong); 429, 5xx and transport errors are
retried here with backoff a bounded number of times, then left ``temporary-failure`` for
the sweeper's bounded retries. A request that timed out may have reached Notify, so before
retrying it we look our reference up: a message is never sent twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from typing import Any

import httpx

from services.notifications.providers.base import (
    DELIVERED,
    PERMANENT,
    TECHNICAL,
    TEMPORARY,
    SendResult,
)
from shared.auth.jwt import notify_token
from shared.clock import utcnow

# Notify's statuses mapped onto ours; anything not final is still "sending".
STATUSES = {
    "delivered": DELIVERED,
    "permanent-failure": PERMANENT,
    "temporary-failure": TEMPORARY,
    "technical-failure": TECHNICAL,
}


def notify_status(status: str) -> str:
    """Our status for one of Notify's (created, sending, pending and sent are on their way)."""
    return STATUSES.get(status, "sending")


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


class NotifyProvider:
    """Sends through GOV.UK Notify with one email and one SMS template.

    The templates hold ``((subject))`` and ``((body))``: the body is rendered by our own
    sandboxed templates, so what a parent reads is the same whichever provider sends it.
    """

    name = "notify"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str,
        email_template_id: str,
        sms_template_id: str,
        tries: int = 3,
        backoff: float = 0.5,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        # Notify checks iat against its own (real) clock, so tokens take the system time.
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        notify_token(api_key, utcnow())  # refuse a malformed key at start-up
        self.api_key, self.base_url = api_key, base_url.rstrip("/")
        self.email_template_id, self.sms_template_id = email_template_id, sms_template_id
        self.tries, self.backoff, self.timeout = tries, backoff, timeout
        self.transport, self.now = transport, now

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url, timeout=self.timeout, transport=self.transport
        )

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {notify_token(self.api_key, self.now())}",
            "User-Agent": "candour-notifications",
        }

    async def _post(self, path: str, body: dict[str, Any], reference: str) -> SendResult:
        error = "no attempt"
        async with self._client() as client:
            for attempt in range(self.tries):
                if attempt:
                    await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
                try:
                    r = await client.post(path, json=body, headers=self._headers())
                except httpx.TimeoutException:
                    # It may have arrived: ask before sending again.
                    found = await self._find(client, reference)
                    if found is not None:
                        return found
                    error = "timeout"
                    continue
                except httpx.TransportError as exc:
                    error = type(exc).__name__
                    continue
                if r.status_code in (200, 201):
                    data = r.json()
                    return SendResult(str(data["id"]), "sending")
                if r.status_code == 429 or r.status_code >= 500:
                    error = f"{r.status_code} {_first_error(r)}"
                    continue
                return SendResult(reference, PERMANENT, error=f"{r.status_code} {_first_error(r)}")
        return SendResult(reference, TEMPORARY, error=error[:500])

    async def send_email(self, message_id: str, email: EmailMessage, at: datetime) -> SendResult:
        """POST /v2/notifications/email with our reference."""
        body = email.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        to = email["To"].addresses[0].addr_spec
        return await self._post(
            "/v2/notifications/email",
            {
                "email_address": to,
                "template_id": self.email_template_id,
                "personalisation": {"subject": str(email["Subject"]), "body": text},
                "reference": message_id,
            },
            message_id,
        )

    async def send_sms(self, message_id: str, to: str, text: str, at: datetime) -> SendResult:
        """POST /v2/notifications/sms with our reference."""
        return await self._post(
            "/v2/notifications/sms",
            {
                "phone_number": to,
                "template_id": self.sms_template_id,
                "personalisation": {"body": text},
                "reference": message_id,
            },
            message_id,
        )

    async def _find(self, client: httpx.AsyncClient, reference: str) -> SendResult | None:
        try:
            r = await client.get(
                "/v2/notifications", params={"reference": reference}, headers=self._headers()
            )
        except httpx.HTTPError:
            return None
        if r.status_code != 200:
            return None
        found = r.json().get("notifications") or []
        if not found:
            return None
        n = found[0]
        status = notify_status(str(n.get("status")))
        return SendResult(
            str(n["id"]),
            status,
            delivered_at=_when(n.get("completed_at")) if status == DELIVERED else None,
        )

    async def lookup(self, message_id: str) -> SendResult | None:
        """What Notify knows of our reference (after a crash between send and record)."""
        async with self._client() as client:
            return await self._find(client, message_id)


def _first_error(r: httpx.Response) -> str:
    try:
        errors = r.json().get("errors") or []
        return str(errors[0].get("error", "")) if errors else ""
    except ValueError:
        return ""
