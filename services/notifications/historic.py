"""Historic parent reports: a report made before the school used Candour, recorded as history.

A historic incident (``historic=True``) starts no clock and sends nothing. When the school
also knows how its parent was told (the written report by email: when it left and when it
arrived), :func:`record_historic_report` keeps that report as notifications keeps any other:
the report row, its timeline, and the ``parent_report.sent``/``delivered``/``completed``
events, with the same-day standard decided by the rule a live report is held to
(``ledger.mark_told``: told in writing by the end of the incident's local day).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifications import clock as cl
from services.notifications import ledger
from services.notifications import models as m
from shared.events import payloads as p


async def record_historic_report(
    conn: AsyncConnection,
    *,
    trust_id: str,
    school_urn: str,
    timezone: str,
    incident_id: str,
    incident_revision: int,
    pupil_id: str,
    occurred_at: datetime,
    contact_id: str,
    channel: Literal["email"],
    sent_at: datetime,
    delivered_at: datetime,
) -> str:
    """Record one parent's historic report; returns its id (stable for the incident and
    contact, so recording it again changes nothing). Sends nothing."""
    report_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"candour:historic:{incident_id}/{contact_id}"))
    if await ledger.load(conn, trust_id, report_id) is not None:
        return report_id
    local_day = cl.local_date(occurred_at, timezone)
    await conn.execute(
        m.parent_report.insert().values(
            trust_id=trust_id,
            report_id=report_id,
            incident_id=incident_id,
            incident_revision=incident_revision,
            pupil_id=pupil_id,
            school_urn=school_urn,
            contact_id=contact_id,
            status="sent",
            incident_occurred_at=occurred_at,
            local_date=local_day.isoformat(),
            timezone=timezone,
            content={"historic": True},
            created_at=sent_at,
            sent_at=sent_at,
            kind="parent",
            deadline_at=cl.end_of_day(local_day, timezone),
        )
    )
    report = await ledger.load(conn, trust_id, report_id)
    assert report is not None
    await ledger.note(conn, report, sent_at, "created", status="sent", historic=True)
    common = {"report_id": report_id, "incident_id": incident_id, "pupil_id": pupil_id}
    provider = "historic"
    await ledger.emit(
        conn,
        report,
        "parent_report.sent.v1",
        sent_at,
        p.ParentReportSentV1(
            **common,
            channel=channel,
            provider=provider,
            sent_at=sent_at,
            incident_occurred_at=occurred_at,
        ),
    )
    await ledger.note(conn, report, delivered_at, "delivered", channel=channel)
    await ledger.emit(
        conn,
        report,
        "parent_report.delivered.v1",
        delivered_at,
        p.ParentReportDeliveredV1(
            **common,
            channel=channel,
            provider=provider,
            delivered_at=delivered_at,
            incident_occurred_at=occurred_at,
        ),
    )
    await ledger.mark_told(
        conn,
        report,
        told_at=delivered_at,
        how=channel,
        by="school",
        now=delivered_at,
    )
    return report_id
