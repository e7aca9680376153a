"""Writes the generated demo trust (``services.demo_data``) through the services' own code.

The registry goes through the incidents service's use cases (``registry_api``: settings,
schools, rolls, staff with their training, the school audit, pupils) and the vocabulary's
``publish``; each incident is submitted whole (interventions with positions and staff,
injuries) by ``service.submit_incident`` with ``historic=True``, so its flags come from the
service's own rules and no parent is ever messaged; contacts go through notifications'
``upsert_contact``; and how each parent was told goes through notifications'
``record_historic_report``, which keeps the report, its timeline and its events and decides
the same-day standard by the live rule. Nothing is sent.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from services import demo_data as plan
from services.incidents import registry, registry_api, vocabulary_api
from services.incidents.registry_schemas import (
    AuditIn,
    PupilIn,
    RollIn,
    SchoolIn,
    SettingsIn,
    StaffIn,
    TrainingIn,
)
from services.incidents.schemas import IncidentCreate
from services.incidents.sections import (
    Aftercare,
    Alternatives,
    Attestation,
    DecisionTest,
    Injury,
    InterventionIn,
    Risk,
    Welfare,
)
from services.incidents.service import submit_incident
from services.notifications import historic
from services.notifications.contacts import upsert_contact
from shared.auth.principal import Principal
from shared.clock import FrozenClock
from shared.ids import contact_id, pupil_id
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
# The hold each kind of intervention uses standing, and what the staff's course covers.
HOLDS = {"physical_restraint": "single_elbow", "reasonable_force": "guide"}
TRAINED = ("guide", "single_elbow", "supine_hold")
AUDIT = AuditIn(
    policy_in_place=True,
    parents_told_how="same day by email",
    seclusion_named_as="seclusion",
    training_bought=["Team Teach"],
    data_reaches_governors=True,
    post_incident_review=True,
    no_contact_policy=False,
)


def _lead(trust: str) -> Principal:
    return Principal(subject="seed:demo", trust_id=trust, role="trust_lead", schools=None)


async def _registry(
    ctx: ServiceContext,
    trust: str,
    schools: list[plan.School],
    years: list[int],
    rng: random.Random,
) -> None:
    now = ctx.clock.now()
    lead = _lead(trust)
    async with ctx.db.transaction() as conn:
        await registry.upsert_trust(conn, ctx.clock, trust, "Demo Learning Trust")
        # Ground holds are timed against a generous limit, so the serious flags are the
        # planted prone holds (a technique the trust prohibits by default).
        settings = SettingsIn(suppression_threshold=4, ground_restraint_limit_minutes=15)
        await registry_api.put_settings(conn, lead, ctx.clock, None, settings)
        await vocabulary_api.publish(conn, lead, ctx.clock)
        for s in schools:
            await registry_api.put_school(
                conn,
                lead,
                ctx.clock,
                s.urn,
                SchoolIn(
                    name=s.name,
                    establishment_type=s.establishment_type,
                    phase=s.phase,
                    email=f"office{s.urn}@schools.example.org",
                    phone="020 7946 0000",
                ),
            )
            for year in years:
                cells = plan.roll_cells(s)
                counts = {ROLL_FIELDS[d]: groups for d, groups in cells.items() if d != "all"}
                roll = RollIn.model_validate({"total": cells["all"]["all"], "counts": counts})
                await registry_api.put_roll(
                    conn, lead, ctx.clock, s.urn, f"{year}-{(year + 1) % 100:02d}", roll
                )
            today = now.astimezone(LONDON).date()
            for k in range(s.staff):
                staff = f"stf-{s.urn}-{k:03d}"
                needs = k < int(s.staff * 0.6)
                training = []
                if needs and k % 9 != 8:  # about 89% trained
                    done = today - timedelta(days=rng.randint(30, 3 * 365 - 10))
                    training.append(
                        TrainingIn(
                            provider="Team Teach",
                            course="Positive handling",
                            techniques=list(TRAINED),
                            completed_date=done,
                            expiry_date=done + timedelta(days=3 * 365),
                        )
                    )
                body = StaffIn(
                    name=f"Staff {k:03d}",
                    role="teaching assistant" if needs else "office",
                    requires_training=needs,
                    training=training,
                )
                await registry_api.put_staff(conn, lead, ctx.clock, s.urn, staff, body)
            await registry_api.put_audit(conn, lead, ctx.clock, s.urn, AUDIT)


async def _pupils(
    inc: ServiceContext, notif: ServiceContext, trust: str, pupils: list[plan.Pupil]
) -> None:
    lead = _lead(trust)
    async with inc.db.transaction() as conn:
        for p in pupils:
            await registry_api.put_pupil(
                conn,
                lead,
                inc.clock,
                p.school.urn,
                p.ref,
                PupilIn(
                    legal_first_name="Demo",
                    legal_last_name=p.ref,
                    sen_provision=p.sen,  # type: ignore[arg-type]
                    year_group=p.year_group,
                    gender=p.gender,  # type: ignore[arg-type]
                    fsm_eligible=p.fsm,
                    fsm_ever6=p.ever6,
                    ethnicity=p.ethnicity,
                    date_of_birth=date(2010, 1, 1),
                ),
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


def _body(x: plan.Incident, k: int) -> IncidentCreate:
    """The whole historic record, as the school's MIS held it."""
    start = datetime.combine(x.day, time(9, 0), LONDON) + timedelta(minutes=x.minute)
    ended = start + timedelta(minutes=3 + x.minute % 12)
    staff = [f"stf-{x.school.urn}-{n:03d}" for n in x.staff]
    position, technique = "standing", HOLDS.get(x.kind)
    if x.ground:
        prone = k % 10 == 0
        position = "ground_prone" if prone else "ground_supine"
        technique = "prone_hold" if prone else "supine_hold"
    injuries = [
        Injury(
            person="staff",
            staff_ref=staff[n % len(staff)] if staff else None,
            description="Bruised forearm",
            treatment="First aid",
            riddor_reportable=False,
        )
        for n in range(x.staff_injuries)
    ]
    if x.pupil_injured:
        injuries.append(
            Injury(
                person="pupil",
                description="Graze to the knee",
                treatment="First aid",
                riddor_reportable=False,
            )
        )
    attested = Attestation(attested=True, reason="As the MIS history records it.")
    return IncidentCreate(
        school_urn=x.school.urn,
        pupil_ref=x.pupil_ref,
        occurred_at=start,
        ended_at=ended,
        intervention_type=x.kind,
        summary="Historic record loaded with the demo trust.",
        source_system="demo-mis",
        source_id=f"D-{x.school.urn}-{k:05d}",
        planned=False,
        location="Classroom",
        antecedents="Recorded in the MIS history.",
        triggers="Recorded in the MIS history.",
        risk=Risk(presented="Risk of injury to others", to=["pupils"], severity="medium"),
        alternatives=Alternatives(
            strategies=["reassurance"], why_insufficient="The risk continued."
        ),
        interventions=[
            InterventionIn(
                type=x.kind,
                technique=technique,
                position=position,  # type: ignore[arg-type]
                purpose="prevent_injury",
                started_at=start,
                ended_at=ended,
                staff=staff,
                supervised_throughout=True if x.kind == "seclusion" else None,
            )
        ],
        decision_test=DecisionTest(
            necessity=attested,
            proportionality=attested,
            shortest_time=attested,
            welfare=attested,
        ),
        welfare=Welfare(monitoring="Watched throughout.", medical_check=True),
        injuries=injuries,
        aftercare=Aftercare(
            pupil_debrief="Talked through.",
            staff_debrief="Debriefed.",
            support_offered="Check-ins.",
        ),
    )


async def _incident(
    inc: AsyncConnection, notif: AsyncConnection, trust: str, x: plan.Incident, k: int
) -> None:
    body = _body(x, k)
    assert body.occurred_at is not None
    start = body.occurred_at
    recorded = FrozenClock(start.astimezone(UTC) + timedelta(minutes=60 + x.minute % 120))
    made, _ = await submit_incident(inc, _lead(trust), body, recorded, historic=True)
    # Nothing may be sent for a historic record: how its parent was told is recorded as
    # history by notifications' own use case, which decides the same-day standard.
    pid = pupil_id(trust, x.school.urn, x.pupil_ref)
    sent = start + timedelta(minutes=x.report_minutes)
    await historic.record_historic_report(
        notif,
        trust_id=trust,
        school_urn=x.school.urn,
        timezone=str(LONDON),
        incident_id=made.incident_id,
        incident_revision=made.revision,
        pupil_id=pid,
        occurred_at=start,
        contact_id=contact_id(trust, pid, "C1"),
        channel="email",
        sent_at=sent,
        delivered_at=sent + timedelta(minutes=1),
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
