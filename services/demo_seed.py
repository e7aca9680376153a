"""Writes the generated demo trust (``services.demo_data``) through the services' own code.

Registry rows and incidents go through the incidents service's functions
(``registry.upsert_*``, ``service.submit_incident`` with ``historic=True``, so no parent
is ever messaged), contacts through notifications' ``upsert_contact``. What those APIs
cannot yet express is written as the producers' events with ``record_event`` in the same
transaction: rolls, staff, training, audit answers, trust settings, the incident details
reporting compares (an ``incident.amended.v1`` revision carrying injuries, position and
staff), practice flags, and each historic parent report's outcome.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services import demo_data as plan
from services.incidents import models as im
from services.incidents import registry
from services.incidents.schemas import IncidentCreate
from services.incidents.service import submit_incident
from services.notifications import models as nm
from services.notifications.contacts import upsert_contact
from shared.auth.principal import Principal
from shared.clock import FrozenClock
from shared.ids import contact_id, pupil_id
from shared.outbox.writer import record_event
from shared.runtime import ServiceContext

DEFAULT_SCHOOLS, DEFAULT_YEARS, DEFAULT_SEED = 12, 2, 1
# The generator's roll dimensions, as the incidents registry names the characteristics.
ROLL_FIELDS = {
    "sen": "sen_provision",
    "fsm": "fsm_eligible",
    "fsm_ever6": "fsm_ever6",
    "gender": "gender",
    "ethnicity": "ethnicity",
    "year_group": "year_group",
}
LONDON = ZoneInfo("Europe/London")
AUDIT = {
    "policy_in_place": "yes, reviewed annually",
    "data_to_governors": "termly report to the local governing body",
    "how_parents_told": "same day by email",
}


async def _event(
    conn: AsyncConnection,
    outbox: sa.Table,
    type: str,
    trust: str,
    at: datetime,
    payload: dict[str, Any],
    subject: str,
    school: str | None = None,
    revision: int = 1,
) -> None:
    await record_event(
        conn,
        outbox,
        type=type,
        trust_id=trust,
        school_urn=school,
        subject_id=subject,
        subject_revision=revision,
        occurred_at=at,
        payload=payload,
    )


async def _registry(
    ctx: ServiceContext,
    trust: str,
    schools: list[plan.School],
    years: list[int],
    rng: random.Random,
) -> None:
    now = ctx.clock.now()
    async with ctx.db.transaction() as conn:
        await registry.upsert_trust(conn, ctx.clock, trust, "Demo Learning Trust")
        await _event(
            conn,
            im.outbox,
            "trust.settings_changed.v1",
            trust,
            now,
            {"settings": {"suppression_threshold": 4}, "effective": {"suppression_threshold": 4}},
            trust,
        )
        await _event(
            conn,
            im.outbox,
            "vocabulary.published.v1",
            trust,
            now,
            {"version": 1, "mappings": 0, "published_at": now.isoformat()},
            "vocabulary",
        )
        for s in schools:
            await registry.upsert_school(
                conn,
                ctx.clock,
                trust,
                urn=s.urn,
                name=s.name,
                establishment_type=s.establishment_type,
                phase=s.phase,
                email=f"office{s.urn}@schools.example.org",
                phone="020 7946 0000",
            )
            for year in years:
                cells = plan.roll_cells(s)
                counts = {ROLL_FIELDS[d]: groups for d, groups in cells.items() if d != "all"}
                await _event(
                    conn,
                    im.outbox,
                    "roll.updated.v1",
                    trust,
                    now,
                    {
                        "school_urn": s.urn,
                        "academic_year": f"{year}/{(year + 1) % 100:02d}",
                        "total": cells["all"]["all"],
                        "counts": counts,
                    },
                    f"{s.urn}:{year}",
                    s.urn,
                )
            today = now.astimezone(LONDON).date()
            for k in range(s.staff):
                staff = f"stf-{s.urn}-{k:03d}"
                needs = k < int(s.staff * 0.6)
                await _event(
                    conn,
                    im.outbox,
                    "staff.updated.v1",
                    trust,
                    now,
                    {"staff_ref": staff, "school_urn": s.urn, "requires_training": needs},
                    staff,
                    s.urn,
                )
                if needs and k % 9 != 8:  # about 89% trained
                    done = today - timedelta(days=rng.randint(30, 3 * 365 - 10))
                    await _event(
                        conn,
                        im.outbox,
                        "training.recorded.v1",
                        trust,
                        now,
                        {
                            "staff_ref": staff,
                            "school_urn": s.urn,
                            "provider": "Team Teach",
                            "course": "Positive handling",
                            "techniques": [],
                            "completed_date": done.isoformat(),
                            "expiry_date": (done + timedelta(days=3 * 365)).isoformat(),
                        },
                        f"trn-{staff}",
                        s.urn,
                    )
            answers = {
                "policy_in_place": AUDIT["policy_in_place"],
                "data_reaches_governors": AUDIT["data_to_governors"],
            }
            await _event(
                conn,
                im.outbox,
                "school.audit_recorded.v1",
                trust,
                now,
                {"school_urn": s.urn, "answers": answers, "recorded_at": now.isoformat()},
                s.urn,
                s.urn,
            )


async def _pupils(
    inc: ServiceContext, notif: ServiceContext, trust: str, pupils: list[plan.Pupil]
) -> None:
    now = inc.clock.now()
    async with inc.db.transaction() as conn:
        for p in pupils:
            pid = await registry.upsert_pupil(
                conn,
                inc.clock,
                trust,
                school_urn=p.school.urn,
                mis_ref=p.ref,
                legal_first_name="Demo",
                legal_last_name=p.ref,
                sen_provision=p.sen,
                year_group=p.year_group,
                gender=p.gender,
                fsm_eligible=p.fsm,
                ethnicity=p.ethnicity,
                date_of_birth=date(2010, 1, 1),
            )
            await _event(
                conn,
                im.outbox,
                "pupil.updated.v1",
                trust,
                now,
                {
                    "school_urn": p.school.urn,
                    "pupil": {
                        "pupil_id": pid,
                        "sen_provision": p.sen,
                        "year_group": p.year_group,
                        "gender": p.gender,
                        "fsm_eligible": p.fsm,
                        "ethnicity": p.ethnicity,
                    },
                    "fsm_ever6": p.ever6,
                },
                pid,
                p.school.urn,
            )
    async with notif.db.transaction() as conn:
        for n, p in enumerate(pupils):
            pid = pupil_id(trust, p.school.urn, p.ref)
            await upsert_contact(
                conn,
                notif.clock,
                trust,
                contact_id=contact_id(trust, pid, "C1"),
                pupil_id=pid,
                school_urn=p.school.urn,
                name="Parent",
                relationship="parent",
                email=f"parent.{p.ref.lower()}@parents.example.org",
                mobile=f"+447700900{n % 1000:03d}",
            )


async def _incident(
    inc: AsyncConnection, notif: AsyncConnection, trust: str, x: plan.Incident, k: int
) -> None:
    start = datetime.combine(x.day, time(9, 0), LONDON) + timedelta(minutes=x.minute)
    recorded = FrozenClock(start.astimezone(UTC) + timedelta(minutes=60 + x.minute % 120))
    who = Principal(subject="seed:demo", trust_id=trust, role="trust_lead", schools=None)
    body = IncidentCreate(
        school_urn=x.school.urn,
        pupil_ref=x.pupil_ref,
        occurred_at=start,
        ended_at=start + timedelta(minutes=3 + x.minute % 12),
        intervention_type=x.kind,
        summary="Historic record loaded with the demo trust.",
        source_system="demo-mis",
        source_id=f"D-{x.school.urn}-{k:05d}",
    )
    made, _ = await submit_incident(inc, who, body, recorded, historic=True)
    # The details reporting compares, as a second revision (what amend_incident will do).
    staff = [f"stf-{x.school.urn}-{n:03d}" for n in x.staff]
    i = im.incident
    key = (i.c.trust_id == trust) & (i.c.incident_id == made.incident_id)
    await inc.execute(i.update().where(key).values(revision=2))
    done = recorded.now()
    await inc.execute(
        im.incident_revision.insert().values(
            trust_id=trust,
            incident_id=made.incident_id,
            revision=2,
            body={**made.model_dump(mode="json"), "revision": 2},
            author="seed:demo",
            reason="details completed from the MIS history",
            created_at=done,
        )
    )
    out = (
        await inc.execute(
            sa.select(im.outbox.c.payload).where(
                (im.outbox.c.trust_id == trust) & (im.outbox.c.subject_id == made.incident_id)
            )
        )
    ).scalar_one()
    ended = start + timedelta(minutes=3 + x.minute % 12)
    amended = {
        **out,
        "incident": {**out["incident"], "revision": 2},
        "record": {
            "interventions": [
                {
                    "type": out["incident"]["intervention_type"],
                    "position": "ground_supine" if x.ground else "standing",
                    "started_at": start.isoformat(),
                    "ended_at": ended.isoformat(),
                    "duration_minutes": 3 + x.minute % 12,
                    "staff_count": len(staff),
                }
            ],
            "injury_count": x.staff_injuries + int(x.pupil_injured),
            "pupil_injured": x.pupil_injured,
            "staff_injured": x.staff_injuries > 0,
            "staff_injury_count": x.staff_injuries,
            "staff_refs": staff,
        },
        "amendment": {
            "revision": 2,
            "author": "seed:demo",
            "reason": "details completed from the MIS history",
            "changed_fields": ["/interventions", "/injuries"],
            "material": False,
        },
    }
    await _event(
        inc,
        im.outbox,
        "incident.amended.v1",
        trust,
        done,
        amended,
        made.incident_id,
        x.school.urn,
        revision=2,
    )
    if x.ground and k % 10 == 0:
        await _event(
            inc,
            im.outbox,
            "practice.flagged.v1",
            trust,
            done,
            {
                "incident_id": made.incident_id,
                "revision": 2,
                "pupil_id": pupil_id(trust, x.school.urn, x.pupil_ref),
                "occurred_at": start.isoformat(),
                "local_date": x.day.isoformat(),
                "setting_type": out["school"]["setting_type"],
                "severity": "serious",
                "flags": [{"code": "prone_hold", "severity": "serious", "detail": "a prone hold"}],
                "historic": True,
            },
            made.incident_id,
            x.school.urn,
        )
    report = str(uuid.uuid5(uuid.NAMESPACE_URL, f"candour:demo-report:{made.incident_id}"))
    sent = start + timedelta(minutes=x.report_minutes)
    common = {
        "report_id": report,
        "incident_id": made.incident_id,
        "incident_occurred_at": start.isoformat(),
    }
    pid = pupil_id(trust, x.school.urn, x.pupil_ref)
    await _event(
        notif,
        nm.outbox,
        "parent_report.sent.v1",
        trust,
        sent,
        {
            **common,
            "pupil_id": pid,
            "channel": "email",
            "provider": "historic",
            "sent_at": sent.isoformat(),
        },
        report,
        x.school.urn,
    )
    delivered = sent + timedelta(minutes=1)
    await _event(
        notif,
        nm.outbox,
        "parent_report.delivered.v1",
        trust,
        delivered,
        {
            **common,
            "pupil_id": pid,
            "channel": "email",
            "provider": "historic",
            "delivered_at": delivered.isoformat(),
        },
        report,
        x.school.urn,
    )
    await _event(
        notif,
        nm.outbox,
        "parent_report.completed.v1",
        trust,
        delivered,
        {
            **common,
            "pupil_id": pid,
            "standard": "missed" if x.missed else "met",
            "reason": "the written report reached the parent after the school day"
            if x.missed
            else None,
            "local_date": x.day.isoformat(),
            "first_sent_at": sent.isoformat(),
            "told_at": delivered.isoformat(),
            "completed_at": delivered.isoformat(),
        },
        report,
        x.school.urn,
    )


async def seed_generated(
    inc: ServiceContext,
    notif: ServiceContext,
    *,
    trust: str = "TR00001",
    schools: int = DEFAULT_SCHOOLS,
    years: int = DEFAULT_YEARS,
    seed: int = DEFAULT_SEED,
) -> dict[str, int] | None:
    """Seed the generated trust; None if the trust is already there."""
    async with inc.db.engine.connect() as conn:
        if await registry.trust_exists(conn, trust):
            return None
    rng = random.Random(seed)  # noqa: S311  (reproducible demo data, not security)
    today = inc.clock.now().astimezone(LONDON).date()
    current = today.year if today.month >= 9 else today.year - 1
    year_list = list(range(current - years, current + 1))
    planned = plan.schools(schools, rng)
    await _registry(inc, trust, planned, year_list, rng)
    counts = {"schools": len(planned), "pupils": 0, "incidents": 0}
    carry: dict[int, dict[str, dict[str, float]]] = {year: {} for year in year_list}
    for s in planned:
        for year in year_list:
            pupils, incidents = plan.plan_year(s, year, current - year, today, rng, carry[year])
            await _pupils(inc, notif, trust, pupils)
            async with inc.db.transaction() as ic, notif.db.transaction() as nc:
                for k, x in enumerate(incidents):
                    await _incident(ic, nc, trust, x, year * 10000 + k)
            counts["pupils"] += len(pupils)
            counts["incidents"] += len(incidents)
    return counts
