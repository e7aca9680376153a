"""JSON logs with ids, never personal data.

Log records carry ids (request, event, incident, trust, school URN) and never names,
email addresses, phone numbers or free text. A redacting filter masks anything that
looks like an email address or a phone number, as a second line of defence.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "candour_request_id", default=None
)

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<![\w-])\+?\d[\d \-()]{8,}\d(?![\w-])")
_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


def redact(text: str) -> str:
    """Mask email addresses and phone numbers in ``text``."""
    text = _EMAIL.sub("[email]", text)
    return _PHONE.sub("[phone]", text)


def mask_email(address: str) -> str:
    """``a***@example.org``: enough to tell two apart in a ledger, not to contact."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_phone(number: str) -> str:
    """Last three digits only."""
    digits = re.sub(r"\D", "", number)
    return f"***{digits[-3:]}" if digits else "***"


# Third-party loggers that would write query parameters or request bodies.
QUIET_LOGGERS = ("aiosqlite", "sqlalchemy.engine", "asyncpg", "httpcore", "hpack")


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def __init__(self, service: str | None = None) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        if self.service:
            entry["service"] = self.service
        rid = request_id_var.get()
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO", service: str | None = None) -> None:
    """Route every logger through one JSON handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's access log prints query strings; ids only travel in paths, but keep it quiet.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # These log SQL parameters (names, contacts) at DEBUG: never let them, whatever the level.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
