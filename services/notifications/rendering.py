"""The written parent report: sandboxed, autoescaped templates and header-safe email.

Templates render in Jinja2's sandbox with only an allow-listed set of plain values, so a
school's adapted template cannot reach Python objects; HTML is autoescaped; header values
never carry CR or LF.
"""

from __future__ import annotations

import logging
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateSyntaxError,
    meta,
    select_autoescape,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from services.notifications.config import TEMPLATES

ALLOWED_VARIABLES = frozenset(
    {
        "contact_name",
        "pupil_name",
        "school_name",
        "school_phone",
        "school_email",
        "occurred_date",
        "occurred_local",
        "ended_local",
        "duration_minutes",
        "intervention",
        "summary",
        "reason",
        "incident_ref",
        "alert",
        "read_link",
        "update_note",
        "location",
        "why_necessary",
        "injuries",
        "support_offered",
    }
)

INTERVENTION_WORDS = {
    "physical_restraint": "Physical restraint (holding)",
    "mechanical_restraint": "Mechanical restraint",
    "seclusion": "Seclusion (kept apart from others in a room they could not leave)",
    "reasonable_force": "Reasonable force",
    "chemical_restraint": "Chemical restraint",
    "supportive_contact": "Supportive contact",
}

_env = ImmutableSandboxedEnvironment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


# Adapted HTML templates come as strings, with no file name to switch autoescape on.
_html_env = ImmutableSandboxedEnvironment(
    autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
)
log = logging.getLogger("candour.notifications")
TEMPLATE_NAMES = ("parent_report.txt.j2", "parent_report.html.j2", "parent_report.sms.j2")


def single_line(value: str) -> str:
    """A header-safe value: no CR, LF or other control characters."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in value).split())


def _local(at: str | None, zone: str) -> datetime | None:
    if not at:
        return None
    return datetime.fromisoformat(at).astimezone(ZoneInfo(zone))


def report_variables(content: dict[str, Any], contact_name: str) -> dict[str, Any]:
    """The allow-listed values a report template may use, from the stored report content."""
    tz = content["timezone"]
    start = _local(content["occurred_at"], tz)
    end = _local(content.get("ended_at"), tz)
    assert start is not None
    if end is None:
        ended = None
    elif end.date() == start.date():
        ended = end.strftime("%H:%M")
    else:
        ended = end.strftime("%A %-d %B %Y, %H:%M")
    values = {
        "contact_name": contact_name,
        "pupil_name": content["pupil_name"],
        "school_name": content["school_name"],
        "school_phone": content.get("school_phone"),
        "school_email": content.get("school_email"),
        "occurred_date": start.strftime("%A %-d %B %Y"),
        "occurred_local": start.strftime("%A %-d %B %Y, %H:%M"),
        "ended_local": ended,
        "duration_minutes": content.get("duration_minutes"),
        "intervention": INTERVENTION_WORDS.get(
            content["intervention_type"], content["intervention_type"]
        ),
        "summary": content["summary"],
        "location": content.get("location"),
        "why_necessary": content.get("why_necessary"),
        "injuries": content.get("injuries"),
        "support_offered": content.get("support_offered"),
    }
    assert set(values) <= ALLOWED_VARIABLES
    return values


ALERT_WORDS = {
    "alert_dsl": "Please phone the parent now: the written report has not reached them.",
    "alert_trust": "The same-day standard is at risk: the written report has not reached a parent.",
    "alert_safeguarding": "A parent report is on safeguarding hold: release or withhold it.",
    "alert_approval": "A parent report awaits a school lead's approval.",
    "unknown": "A message's outcome is unknown: check with the parent before resending.",
    "alert_la": "No parent may be told: the local authority must be notified.",
    "pursue": "A parent report missed the same day and is still open: please phone the parent.",
}


def message_variables(report: Any, message: Any, name: str) -> dict[str, Any]:
    """The allow-listed values for one message of a report (a parent's or a staff alert)."""
    values = report_variables(report.content, name)
    step = str(message.step).split(":", 1)[0]
    values["incident_ref"] = str(report.incident_id)[:8]
    values["alert"] = ALERT_WORDS.get(
        message.purpose if message.purpose in ALERT_WORDS else step, ALERT_WORDS["alert_dsl"]
    )
    values["reason"] = None
    values["read_link"] = None
    values["update_note"] = (
        "The school has corrected or added to its record of this incident; this is the "
        "updated report."
        if message.purpose == "update"
        else None
    )
    return values


def build_message_email(
    *,
    overrides: Overrides = None,
    purpose: str,
    sender: str,
    sender_name: str,
    to: str,
    variables: dict[str, Any],
    message_id: str,
) -> EmailMessage:
    """The email for a message's purpose: the written report, a prompt or a staff alert."""
    if purpose in ("report", "update"):
        return build_email(
            overrides=overrides,
            sender=sender,
            sender_name=sender_name,
            to=to,
            variables=variables,
            message_id=message_id,
        )
    msg = EmailMessage()
    msg["From"] = formataddr((single_line(sender_name), sender))
    msg["To"] = single_line(to)
    subject = (
        "Parent report needs you"
        if purpose.startswith("alert") or purpose == "pursue"
        else (f"Please contact {variables['school_name']}")
    )
    msg["Subject"] = single_line(subject)
    msg["Message-ID"] = make_msgid(idstring=message_id, domain="candour.local")
    msg["X-Candour-Message"] = message_id
    msg.set_content(build_text(purpose, variables, overrides))
    return msg


def build_text(purpose: str, variables: dict[str, Any], overrides: Overrides = None) -> str:
    """A short text (SMS or plain email) for a message's purpose; never incident detail."""
    name = {
        "report": "parent_report.sms.j2",
        "prompt": "parent_report.sms.j2",
        "call_us": "call_us.sms.j2",
        "next_contact": "next_contact.sms.j2",
    }.get(purpose, "staff_alert.txt.j2")
    return single_line(render(name, variables))


Overrides = dict[str, str] | None


def render(name: str, variables: dict[str, Any], overrides: Overrides = None) -> str:
    """Render one template (a school's or trust's adaptation if given) with allow-listed values."""
    unknown = set(variables) - ALLOWED_VARIABLES
    if unknown:
        raise ValueError(f"variables not allowed in templates: {sorted(unknown)}")
    source = (overrides or {}).get(name)
    if source is not None:
        try:
            return _compile(name, source).render(**variables)
        except (TemplateError, SecurityError):
            log.warning("adapted template failed; the trust's own used", extra={"name": name})
    return _env.get_template(name).render(**variables)


def template_language(name: str) -> tuple[str, str | None]:
    """A stored template's name without its language, and the language (None: the
    English original): ``parent_report.cy.txt.j2`` is (``parent_report.txt.j2``, ``cy``)."""
    parts = name.split(".")
    if len(parts) == 4:
        return ".".join((parts[0], *parts[2:])), parts[1]
    return name, None


def _compile(name: str, source: str) -> Template:
    env = _html_env if name.endswith(".html.j2") else _env
    return env.from_string(source)


def check_template(name: str, source: str, sample: dict[str, Any]) -> str | None:
    """Why an adapted template is refused (None if it is fit to use).

    It must parse, use only allow-listed variables, and render in the sandbox: a template
    reaching for Python objects (``''.__class__.__mro__``) fails here with a SecurityError.
    """
    env = _html_env if name.endswith(".html.j2") else _env
    try:
        used = meta.find_undeclared_variables(env.parse(source))
    except TemplateSyntaxError as exc:
        return f"template syntax error on line {exc.lineno}: {exc.message}"
    unknown = sorted(used - ALLOWED_VARIABLES)
    if unknown:
        return f"variables not allowed: {', '.join(unknown)}"
    try:
        _compile(name, source).render(**sample)
    except SecurityError as exc:
        return f"refused by the sandbox: {exc}"
    except TemplateError as exc:
        return f"template error: {exc}"
    return None


def build_email(
    *,
    overrides: Overrides = None,
    sender: str,
    sender_name: str,
    to: str,
    variables: dict[str, Any],
    message_id: str,
) -> EmailMessage:
    """The written report as an RFC 5322 message with plain-text and HTML parts."""
    msg = EmailMessage()
    msg["From"] = formataddr((single_line(sender_name), sender))
    msg["To"] = single_line(to)
    prefix = "An updated report" if variables.get("update_note") else "A report"
    msg["Subject"] = single_line(f"{prefix} from {variables['school_name']}")
    msg["Message-ID"] = make_msgid(idstring=message_id, domain="candour.local")
    msg["X-Candour-Message"] = message_id
    msg.set_content(render("parent_report.txt.j2", variables, overrides))
    html = render("parent_report.html.j2", variables, overrides)
    msg.add_alternative(html, subtype="html")
    return msg


def build_sms(variables: dict[str, Any]) -> str:
    """The SMS prompt: no incident detail, only where to read the report."""
    return single_line(render("parent_report.sms.j2", variables))
