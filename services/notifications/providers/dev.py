"""The development provider: one file per message under ``var/outbox/``."""

from __future__ import annotations

import os
import tempfile
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

from services.notifications.providers.base import SendResult


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class DevFileProvider:
    """Writes each message to a file under ``var/outbox/`` and reports it delivered at once.

    Files are named ``<UTC time>-<channel>-<message id>``: ``.eml`` for email (RFC 5322),
    ``.txt`` for SMS with the recipient on the first line.
    """

    name = "dev"

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @staticmethod
    def _stamp(at: datetime) -> str:
        return at.strftime("%Y%m%dT%H%M%S.%fZ")

    async def send_email(self, message_id: str, email: EmailMessage, at: datetime) -> SendResult:
        """Write the message as ``.eml``."""
        path = self.directory / f"{self._stamp(at)}-email-{message_id}.eml"
        _atomic_write(path, email.as_bytes())
        return SendResult(provider_ref=path.name, status="delivered", delivered_at=at)

    async def send_sms(self, message_id: str, to: str, text: str, at: datetime) -> SendResult:
        """Write the SMS as ``.txt``, recipient first."""
        path = self.directory / f"{self._stamp(at)}-sms-{message_id}.txt"
        _atomic_write(path, f"{to}\n{text}\n".encode())
        return SendResult(provider_ref=path.name, status="delivered", delivered_at=at)

    async def lookup(self, message_id: str) -> SendResult | None:
        """A message is delivered if its file exists (after a crash mid-send)."""
        for path in self.directory.glob(f"*-{message_id}.*"):
            return SendResult(provider_ref=path.name, status="delivered")
        return None
