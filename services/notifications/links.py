"""Read-confirmation links: one per recipient, HMAC-signed with CANDOUR_LINK_SECRET, expiring.

The token names the message and its expiry and carries an HMAC-SHA256 over both, so it
cannot be forged or stretched; it names no person.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from shared.config import Settings


class LinkInvalid(Exception):
    """Not a link we signed."""


class LinkExpired(Exception):
    """A link we signed, past its expiry."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest())


def make_token(settings: Settings, trust_id: str, message_id: str, expires_at: datetime) -> str:
    """The signed token for one message's read confirmation."""
    payload = _b64(f"{trust_id}.{message_id}.{int(expires_at.timestamp())}".encode())
    return f"{payload}.{_sign(settings.link_secret, payload)}"


def read_link(settings: Settings, trust_id: str, message_id: str, expires_at: datetime) -> str:
    """The URL a parent follows to confirm they have read the report."""
    base = settings.notifications_public_url.rstrip("/")
    return f"{base}/v1/read/{make_token(settings, trust_id, message_id, expires_at)}"


def verify_token(settings: Settings, token: str, now: datetime) -> tuple[str, str]:
    """(trust_id, message_id) of a valid, unexpired token."""
    payload, _, signature = token.partition(".")
    if not payload or not signature:
        raise LinkInvalid
    expected = _sign(settings.link_secret, payload)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise LinkInvalid
    try:
        trust_id, message_id, expires = _unb64(payload).decode().split(".")
        expiry = int(expires)
    except (ValueError, UnicodeDecodeError):
        raise LinkInvalid from None
    if now.timestamp() > expiry:
        raise LinkExpired
    return trust_id, message_id
