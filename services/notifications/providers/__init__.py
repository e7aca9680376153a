"""Message providers behind one protocol: GOV.UK Notify, SMTP and the development files."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage

from services.notifications.providers.base import FINAL, Provider, SendResult
from services.notifications.providers.dev import DevFileProvider
from services.notifications.providers.notify import NotifyProvider
from services.notifications.providers.smtp import SmtpProvider
from shared.config import Settings

__all__ = [
    "FINAL",
    "DevFileProvider",
    "NotifyProvider",
    "Provider",
    "Routed",
    "SendResult",
    "SmtpProvider",
]


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
    """The configured provider: Notify and/or SMTP when set, else the development files.

    With both, email goes by SMTP and SMS by Notify; SMTP alone sends SMS to the files.
    """
    dev: Provider = DevFileProvider(settings.outbox_dir)
    if settings.notify_api_key:
        dev = NotifyProvider(
            settings.notify_api_key,
            base_url=settings.notify_base_url,
            email_template_id=settings.notify_email_template_id,
            sms_template_id=settings.notify_sms_template_id,
        )
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
