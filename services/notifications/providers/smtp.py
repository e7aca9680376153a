"""SMTP through aiosmtplib, for trusts with their own mail relay (email only)."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

import aiosmtplib

from services.notifications.providers.base import (
    DELIVERED,
    PERMANENT,
    TEMPORARY,
    UNKNOWN,
    SendResult,
)


class SmtpProvider:
    """Hands each email to the relay; the relay's 250 is the last word we get (delivered).

    A 5xx is permanent, a 4xx or a refused connection temporary (retried, bounded); a
    connection lost once the message data went out leaves the outcome unknown, and such a
    message is escalated to staff rather than sent twice.
    """

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        username: str | None = None,
        password: str | None = None,
        start_tls: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username or None, password or None
        self.start_tls, self.timeout = start_tls, timeout

    async def send_email(self, message_id: str, email: EmailMessage, at: datetime) -> SendResult:
        """Send one message through the relay."""
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self.timeout,
            start_tls=self.start_tls,
            use_tls=False,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            return SendResult(message_id, TEMPORARY, error=type(exc).__name__)
        data_sent = False
        try:
            if self.username and self.password:
                await client.login(self.username, self.password)
            sender = email["From"].addresses[0].addr_spec
            rcpt = [a.addr_spec for a in email["To"].addresses]
            await client.mail(sender)
            for r in rcpt:
                await client.rcpt(r)
            data_sent = True
            response = await client.data(email.as_bytes())
            return (
                SendResult(message_id, DELIVERED, delivered_at=at, error=None)
                if (200 <= response.code < 300)
                else SendResult(message_id, TEMPORARY, error=str(response.code))
            )
        except aiosmtplib.SMTPResponseException as exc:
            status = PERMANENT if 500 <= exc.code < 600 else TEMPORARY
            return SendResult(message_id, status, error=f"{exc.code}")
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            status = UNKNOWN if data_sent else TEMPORARY
            return SendResult(message_id, status, error=type(exc).__name__)
        finally:
            if client.is_connected:
                try:
                    await client.quit()
                except (aiosmtplib.SMTPException, OSError):
                    client.close()

    async def send_sms(self, message_id: str, to: str, text: str, at: datetime) -> SendResult:
        """SMTP carries no SMS."""
        return SendResult(message_id, PERMANENT, error="smtp sends no sms")

    async def lookup(self, message_id: str) -> SendResult | None:
        """A relay cannot be asked about a message: the outcome stays unknown."""
        return None
