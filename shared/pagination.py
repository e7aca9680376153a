"""Opaque cursors for keyset pagination."""

from __future__ import annotations

import base64
import json
from typing import Any

from shared.errors import ValidationFailed


def encode_cursor(values: list[Any]) -> str:
    """An opaque cursor for the last row of a page."""
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    """The values behind a cursor; a tampered cursor is a 422 naming the parameter."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != length:
        raise ValidationFailed(
            "The cursor is not one this service issued.",
            errors=[{"pointer": "#/query/cursor", "detail": "invalid cursor"}],
        )
    return values
