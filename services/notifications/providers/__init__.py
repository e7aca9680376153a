"""Message providers behind one protocol: GOV.UK Notify, SMTP and the development files."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from services.notifications.providers.base import FINAL, Provider, SendResult
from services.notifications.providers.dev import DevFileProvider
from services.notifications.providers.smtp import SmtpProvider
from shared.config import Settings

__all__ = ["FINAL", "DevFileProvider", "Provider", "Routed", "SendResult", "SmtpProvider"]


class Routed:
    """Email through one provider, SMS through another (SMTP relays carry no SMS)."""

    def __init__(self, email: Provider, sms: Provider) -> None:
        self.email, self.sms = email, sms
        self.name = email.name if email is sms else f"{email.name}+{sms.name}"

    async def send_email(self, message_id: str, email: EmailMessage, at: datetime) -> SendResult:
        """Send through the email provider."""
        return await self.email.send_email(message_id, email, at)

    async def send_sms(self, message_id: str, to: str, text: str, at: datetime) -> SendResult:
        """Send through the SMS provider."""
        return await self.sms.send_sms(message_id, to, text, at)

    async def lookup(self, message_id: str) -> SendResult | None:
        """Ask each provider in turn."""
        for provider in (self.email, self.sms):
            found = await provider.lookup(message_id)
            if found is not None:
                return found
        return None


def provider_for(settings: Settings) -> Provider:
    """The configured provider: SMTP for email when a host is set, else the development files."""
    dev = DevFileProvider(settings.outbox_dir)
    if settings.smtp_host:
        smtp = SmtpProvider(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            start_tls=settings.smtp_starttls,
        )
        return Routed(smtp, dev)
    return dev
