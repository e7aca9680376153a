"""The trust registry: trusts, schools and pupils, upserted by natural keys."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import models as m
from services.incidents.vocabulary import (
    DEFAULT_LABELS,
    DEFAULT_STRATEGY_LABELS,
    DEFAULT_TECHNIQUE_LABELS,
    VOCABULARY_VERSION,
)
from shared.clock import Clock
from shared.events.payloads import SchoolRef, SchoolRegisteredV1
from shared.ids import pupil_id as make_pupil_id
from shared.outbox.writer import record_event

SPECIAL_TYPES = {
    "community special school",
    "foundation special school",
    "academy special converter",
    "academy special sponsor led",
    "free schools special",
    "non-maintained special school",
}
AP_TYPES = {
    "pupil referral unit",
    "academy alternative provision converter",
    "academy alternative provision sponsor led",
    "free schools alternative provision",
}
PHASES = {
    "primary": "primary",
    "secondary": "secondary",
    "all-through": "all_through",
    "all_through": "all_through",
    "16 plus": "sixteen_plus",
    "sixteen_plus": "sixteen_plus",
}


def derive_setting_type(establishment_type: str | None, phase: str | None) -> str:
    """Special and AP from the establishment type, not the phase (DOMAIN §6); else the phase."""
    etype = (establishment_type or "").strip().lower()
    if etype in SPECIAL_TYPES or "special" in etype:
        return "special"
    if etype in AP_TYPES or "alternative provision" in etype or "pupil referral" in etype:
        return "alternative_provision"
    return PHASES.get((phase or "").strip().lower(), "primary" if not phase else "secondary")


async def upsert(
    conn: AsyncConnection, table: sa.Table, key: dict[str, Any], values: dict[str, Any]
) -> bool:
    """Insert or update by primary key; True when something was inserted or changed."""
    cond = sa.and_(*(table.c[k] == v for k, v in key.items()))
    current = (await conn.execute(sa.select(table).where(cond))).first()
    if current is None:
        await conn.execute(table.insert().values(**key, **values))
        return True
    changed = {k: v for k, v in values.items() if k != "updated_at" and getattr(current, k) != v}
    if changed:
        await conn.execute(table.update().where(cond).values(**values))
    return bool(changed)


async def upsert_trust(conn: AsyncConnection, clock: Clock, trust_id: str, name: str) -> None:
    """A trust, with the default vocabulary labels mapped trust-wide."""
    if await trust_exists(conn, trust_id):
        # Renaming only: the trust's own mappings and version are its own by now.
        await upsert(conn, m.trust, {"trust_id": trust_id}, {"name": name})
        return
    await upsert(
        conn,
        m.trust,
        {"trust_id": trust_id},
        {"name": name, "vocabulary_version": VOCABULARY_VERSION, "created_at": clock.now()},
    )
    defaults = {
        "intervention_type": DEFAULT_LABELS,
        "technique": DEFAULT_TECHNIQUE_LABELS,
        "strategy": DEFAULT_STRATEGY_LABELS,
    }
    for kind, labels in defaults.items():
        for label, code in labels.items():
            await upsert(
                conn,
                m.vocabulary_label,
                {"trust_id": trust_id, "scope": "", "kind": kind, "label": label},
                {"code": code, "version": VOCABULARY_VERSION},
            )


async def map_school_label(
    conn: AsyncConnection, trust_id: str, urn: str, label: str, code: str
) -> None:
    """A school's own word for a vocabulary term."""
    await upsert(
        conn,
        m.vocabulary_label,
        {"trust_id": trust_id, "scope": urn, "kind": "intervention_type", "label": label},
        {"code": code, "version": VOCABULARY_VERSION},
    )


async def upsert_school(
    conn: AsyncConnection,
    clock: Clock,
    trust_id: str,
    *,
    urn: str,
    name: str,
    establishment_type: str | None,
    phase: str | None,
    laestab: str | None = None,
    timezone: str = "Europe/London",
    phone: str | None = None,
    email: str | None = None,
) -> str:
    """A school of the trust; emits ``school.registered.v1`` when new or changed."""
    setting = derive_setting_type(establishment_type, phase)
    values = {
        "name": name,
        "laestab": laestab,
        "establishment_type": establishment_type,
        "phase": phase,
        "setting_type": setting,
        "timezone": timezone,
        "phone": phone,
        "email": email,
        "updated_at": clock.now(),
    }
    if await upsert(conn, m.school, {"trust_id": trust_id, "urn": urn}, values):
        await record_event(
            conn,
            m.outbox,
            type="school.registered.v1",
            trust_id=trust_id,
            school_urn=urn,
            subject_id=urn,
            subject_revision=1,
            occurred_at=clock.now(),
            payload=SchoolRegisteredV1(
                school=SchoolRef(
                    urn=urn,
                    name=name,
                    timezone=timezone,
                    setting_type=setting,  # type: ignore[arg-type]
                    phone=phone,
                    email=email,
                )
            ),
        )
    return setting


async def upsert_pupil(
    conn: AsyncConnection,
    clock: Clock,
    trust_id: str,
    *,
    school_urn: str,
    mis_ref: str,
    legal_first_name: str,
    legal_last_name: str,
    preferred_name: str | None = None,
    date_of_birth: date | None = None,
    upn: str | None = None,
    sen_provision: str = "N",
    year_group: str | None = None,
    gender: str | None = None,
    fsm_eligible: bool | None = None,
    ethnicity: str | None = None,
    handling_plan: list[str] | None = None,
) -> str:
    """A pupil of a school, keyed by the school's MIS reference; returns the Candour id."""
    pid = make_pupil_id(trust_id, school_urn, mis_ref)
    await upsert(
        conn,
        m.pupil,
        {"trust_id": trust_id, "pupil_id": pid},
        {
            "school_urn": school_urn,
            "mis_ref": mis_ref,
            "upn": upn,
            "legal_first_name": legal_first_name,
            "legal_last_name": legal_last_name,
            "preferred_name": preferred_name,
            "date_of_birth": date_of_birth,
            "sen_provision": sen_provision,
            "year_group": year_group,
            "gender": gender,
            "fsm_eligible": fsm_eligible,
            "ethnicity": ethnicity,
            "handling_plan": handling_plan,
            "updated_at": clock.now(),
        },
    )
    return pid


async def trust_exists(conn: AsyncConnection, trust_id: str) -> bool:
    """Whether the trust is registered."""
    return bool(await conn.scalar(sa.select(sa.literal(1)).where(m.trust.c.trust_id == trust_id)))


async def upsert_staff(
    conn: AsyncConnection,
    clock: Clock,
    trust_id: str,
    *,
    school_urn: str,
    staff_ref: str,
    name: str,
    role: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    requires_training: bool = True,
    escalation_roles: Iterable[str] = (),
) -> bool:
    """A member of staff of a school, keyed by the school's reference; True when changed."""
    return await upsert(
        conn,
        m.staff,
        {"trust_id": trust_id, "school_urn": school_urn, "staff_ref": staff_ref},
        {
            "name": name,
            "role": role,
            "email": email,
            "phone": phone,
            "requires_training": requires_training,
            "escalation_roles": ",".join(sorted(set(escalation_roles))),
            "updated_at": clock.now(),
        },
    )


async def record_training(
    conn: AsyncConnection,
    clock: Clock,
    trust_id: str,
    *,
    school_urn: str,
    staff_ref: str,
    provider: str,
    course: str,
    techniques: list[str],
    completed_date: date,
    expiry_date: date,
    certification: str | None = None,
) -> bool:
    """A training record of a member of staff (provider, course, techniques it covers)."""
    return await upsert(
        conn,
        m.staff_training,
        {
            "trust_id": trust_id,
            "school_urn": school_urn,
            "staff_ref": staff_ref,
            "provider": provider,
            "course": course,
        },
        {
            "certification": certification,
            "techniques": sorted(techniques),
            "completed_date": completed_date,
            "expiry_date": expiry_date,
            "updated_at": clock.now(),
        },
    )


async def put_settings(
    conn: AsyncConnection, clock: Clock, trust_id: str, scope: str, settings: dict[str, Any]
) -> bool:
    """The trust's settings ('' scope) or one school's overrides (its URN)."""
    return await upsert(
        conn,
        m.trust_setting,
        {"trust_id": trust_id, "scope": scope},
        {"settings": settings, "updated_at": clock.now()},
    )
