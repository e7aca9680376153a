"""Pupils' contacts (parents, carers, a looked-after child's social worker)."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import models as m
from shared.clock import Clock

RELATIONSHIPS = (
    "mother",
    "father",
    "parent",
    "step_parent",
    "carer",
    "foster_carer",
    "guardian",
    "grandparent",
    "other_relative",
    "social_worker",
    "virtual_school_head",
    "other",
)
_UK_MOBILE = re.compile(r"^\+447\d{9}$")
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


def normalise_mobile(raw: str) -> str:
    """E.164 for a mobile number; UK numbers (07..., +44 7..., 0044 7...) must be UK mobiles.

    Raises ValueError with a message fit for the caller.
    """
    compact = re.sub(r"[\s\-().]", "", raw)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif compact.startswith("0"):
        compact = "+44" + compact[1:]
    elif compact.startswith("44"):
        compact = "+" + compact
    if compact.startswith("+440"):  # +44 (0)7700 ...
        compact = "+44" + compact[4:]
    if not _E164.match(compact):
        raise ValueError("not a phone number in international (E.164) or UK form")
    if compact.startswith("+44") and not _UK_MOBILE.match(compact):
        raise ValueError("not a UK mobile number (07 followed by 9 digits)")
    return compact


async def upsert_contact(
    conn: AsyncConnection,
    clock: Clock,
    trust_id: str,
    *,
    contact_id: str,
    pupil_id: str,
    school_urn: str,
    name: str,
    relationship: str,
    parental_responsibility: bool = True,
    priority: int = 1,
    email: str | None = None,
    mobile: str | None = None,
    preferred_channel: str = "email",
    do_not_contact: bool = False,
    do_not_contact_reason: str | None = None,
    language: str = "en",
) -> None:
    """Insert or replace one contact."""
    c = m.contact
    values = {
        "pupil_id": pupil_id,
        "school_urn": school_urn,
        "name": name,
        "relationship": relationship,
        "parental_responsibility": parental_responsibility,
        "priority": priority,
        "email": email,
        "mobile": mobile,
        "preferred_channel": preferred_channel,
        "do_not_contact": do_not_contact,
        "do_not_contact_reason": do_not_contact_reason,
        "language": language,
        "updated_at": clock.now(),
    }
    key = (c.c.trust_id == trust_id) & (c.c.contact_id == contact_id)
    if (await conn.execute(sa.select(c.c.contact_id).where(key))).first() is None:
        await conn.execute(c.insert().values(trust_id=trust_id, contact_id=contact_id, **values))
    else:
        await conn.execute(c.update().where(key).values(**values))


async def upsert_escalation_contact(
    conn: AsyncConnection,
    clock: Clock,
    trust_id: str,
    *,
    school_urn: str,
    role: str,
    staff_id: str,
    name: str,
    email: str | None = None,
    mobile: str | None = None,
    active: bool = True,
) -> None:
    """Insert or replace one named member of staff alerted when a report is at risk."""
    e = m.escalation_contact
    values = {
        "name": name,
        "email": email,
        "mobile": mobile,
        "active": active,
        "updated_at": clock.now(),
    }
    key = (
        (e.c.trust_id == trust_id)
        & (e.c.school_urn == school_urn)
        & (e.c.role == role)
        & (e.c.staff_id == staff_id)
    )
    if (await conn.execute(sa.select(e.c.staff_id).where(key))).first() is None:
        await conn.execute(
            e.insert().values(
                trust_id=trust_id, school_urn=school_urn, role=role, staff_id=staff_id, **values
            )
        )
    else:
        await conn.execute(e.update().where(key).values(**values))


ESCALATION_ROLES = ("dsl", "head", "trust_lead")


async def apply_staff_updated(
    conn: AsyncConnection,
    clock: Clock,
    trust_id: str,
    school_urn: str | None,
    payload: dict[str, Any],
) -> int:
    """Escalation contacts from a ``staff.updated`` event, read defensively.

    Expected (under ``staff`` or at the top level): ``staff_id``, ``name``, ``email``,
    ``mobile``, ``escalation_roles`` (any of dsl, head, trust_lead) or ``roles``,
    ``active``; ``school_urn`` falls back to the envelope's. Roles no longer held are
    deactivated. Returns how many roles were upserted.
    """
    nested = payload.get("staff")
    staff: dict[str, Any] = nested if isinstance(nested, dict) else payload
    # The incidents registry names staff by the school's reference and carries alert contacts.
    staff_id = str(staff.get("staff_id") or staff.get("staff_ref") or "")[:64]
    urn = str(staff.get("school_urn") or school_urn or "")
    roles = staff.get("escalation_roles") or staff.get("roles") or []
    if not staff_id or not isinstance(roles, list):
        return 0
    held = {str(r) for r in roles} & set(ESCALATION_ROLES)
    found = staff.get("contact")
    contact: dict[str, Any] = found if isinstance(found, dict) else {}
    try:
        raw_mobile = staff.get("mobile") or contact.get("phone")
        mobile = normalise_mobile(str(raw_mobile)) if raw_mobile else None
    except ValueError:
        mobile = None
    email = str(staff.get("email") or contact.get("email") or "") or None
    active = bool(staff.get("active", True))
    e = m.escalation_contact
    await conn.execute(
        e.update()
        .where(
            (e.c.trust_id == trust_id)
            & (e.c.staff_id == staff_id)
            & e.c.role.not_in(sorted(held) or ["-"])
        )
        .values(active=False, updated_at=clock.now())
    )
    n = 0
    for role in sorted(held):
        where = "*" if role == "trust_lead" else urn
        if not where or (not email and not mobile):
            continue
        await upsert_escalation_contact(
            conn,
            clock,
            trust_id,
            school_urn=where,
            role=role,
            staff_id=staff_id,
            name=str(staff.get("name") or staff_id)[:200],
            email=email,
            mobile=mobile,
            active=active,
        )
        n += 1
    return n
