"""Every query of the notifications API; each starts from the caller's trust and schools."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import models as m
from shared.auth.principal import Principal
from shared.db.scoping import scoped
from shared.errors import NotFound


async def reports_for_incident(
    conn: AsyncConnection, principal: Principal, incident_id: str
) -> list[sa.Row]:
    """The incident's parent reports within scope."""
    r = m.parent_report
    return list(
        (
            await conn.execute(
                sa.select(r)
                .where(scoped(r, principal) & (r.c.incident_id == incident_id))
                .order_by(r.c.created_at, r.c.report_id)
            )
        ).all()
    )


async def reports_for_school(
    conn: AsyncConnection,
    principal: Principal,
    urn: str,
    *,
    status: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[sa.Row]:
    """One school's reports, newest first, keyset-paginated."""
    r = m.parent_report
    cond = scoped(r, principal) & (r.c.school_urn == urn)
    if status:
        cond = cond & (r.c.status == status)
    key = sa.tuple_(r.c.local_date, r.c.report_id)
    if after is not None:
        cond = cond & (key < sa.tuple_(sa.literal(after[0]), sa.literal(after[1])))
    q = sa.select(r).where(cond).order_by(r.c.local_date.desc(), r.c.report_id.desc())
    return list((await conn.execute(q.limit(limit))).all())


async def get_report(conn: AsyncConnection, principal: Principal, report_id: str) -> sa.Row:
    """One report within scope, or 404 (another trust's or school's report is not found)."""
    r = m.parent_report
    row = (
        await conn.execute(sa.select(r).where(scoped(r, principal) & (r.c.report_id == report_id)))
    ).first()
    if row is None:
        raise NotFound("No such parent report.")
    return row


async def details(
    conn: AsyncConnection, trust_id: str, report_ids: list[str]
) -> tuple[list[sa.Row], list[sa.Row], list[sa.Row]]:
    """Messages, steps and timeline of already-scoped reports."""
    if not report_ids:
        return [], [], []
    msg, s, e = m.message, m.report_step, m.report_event
    messages = (
        await conn.execute(
            sa.select(msg)
            .where((msg.c.trust_id == trust_id) & msg.c.report_id.in_(report_ids))
            .order_by(msg.c.created_at, msg.c.message_id)
        )
    ).all()
    steps = (
        await conn.execute(
            sa.select(s)
            .where((s.c.trust_id == trust_id) & s.c.report_id.in_(report_ids))
            .order_by(s.c.due_at, s.c.step)
        )
    ).all()
    events = (
        await conn.execute(
            sa.select(e)
            .where((e.c.trust_id == trust_id) & e.c.report_id.in_(report_ids))
            .order_by(e.c.at, e.c.event_id)
        )
    ).all()
    return list(messages), list(steps), list(events)


async def find_contact(
    conn: AsyncConnection, principal: Principal, contact_id: str
) -> tuple[sa.Row | None, bool]:
    """A contact by id: (row if within scope, whether it exists at all in the trust)."""
    c = m.contact
    row = (
        await conn.execute(
            sa.select(c).where(
                (c.c.trust_id == principal.trust_id) & (c.c.contact_id == contact_id)
            )
        )
    ).first()
    if row is None:
        return None, False
    return (row if principal.may_see_school(row.school_urn) else None), True


async def pupil_contacts(
    conn: AsyncConnection, principal: Principal, pupil_id: str
) -> list[sa.Row]:
    """A pupil's contacts within scope, by priority."""
    c = m.contact
    return list(
        (
            await conn.execute(
                sa.select(c)
                .where(scoped(c, principal) & (c.c.pupil_id == pupil_id))
                .order_by(c.c.priority, c.c.contact_id)
            )
        ).all()
    )


async def staff_for_school(conn: AsyncConnection, principal: Principal, urn: str) -> list[sa.Row]:
    """A school's escalation contacts, and the trust's leads."""
    e = m.escalation_contact
    return list(
        (
            await conn.execute(
                sa.select(e)
                .where((e.c.trust_id == principal.trust_id) & e.c.school_urn.in_([urn, "*"]))
                .order_by(e.c.school_urn, e.c.role, e.c.staff_id)
            )
        ).all()
    )


async def upsert_policy(
    conn: AsyncConnection, trust_id: str, urn: str, values: dict[str, object]
) -> None:
    """Replace one settings row (a school's, or the trust's with urn ``*``)."""
    p = m.report_policy
    key = (p.c.trust_id == trust_id) & (p.c.school_urn == urn)
    if (await conn.execute(sa.select(p.c.school_urn).where(key))).first() is None:
        await conn.execute(p.insert().values(trust_id=trust_id, school_urn=urn, **values))
    else:
        await conn.execute(p.update().where(key).values(**values))


async def school_known(conn: AsyncConnection, trust_id: str, urn: str) -> bool:
    """Whether anything of this trust's is recorded for the school (else it is not ours)."""
    checks = [
        sa.select(sa.literal(1)).where((t.c.trust_id == trust_id) & (t.c.school_urn == urn))
        for t in (m.school, m.contact, m.escalation_contact, m.report_policy, m.parent_report)
    ]
    for stmt in checks:
        if await conn.scalar(stmt.limit(1)):
            return True
    return False


async def record_school(
    conn: AsyncConnection, trust_id: str, urn: str, name: str, timezone: str, at: object
) -> None:
    """Remember a school of the trust (from ``school.registered.v1``)."""
    s = m.school
    key = (s.c.trust_id == trust_id) & (s.c.school_urn == urn)
    values = {"name": name, "timezone": timezone, "updated_at": at}
    if (await conn.execute(sa.select(s.c.school_urn).where(key))).first() is None:
        await conn.execute(s.insert().values(trust_id=trust_id, school_urn=urn, **values))
    else:
        await conn.execute(s.update().where(key).values(**values))
