"""The demo trust ``TR00001``, seeded through each service's own code.

Schools of different settings, pupils with their parents' contacts, and some history.
History is marked historic: it reaches reporting and never sends a message to a parent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import registry
from services.incidents.schemas import IncidentCreate
from services.incidents.service import submit_incident
from services.notifications.contacts import upsert_contact, upsert_escalation_contact
from shared.auth.principal import Principal
from shared.clock import Clock
from shared.ids import contact_id, pupil_id
from shared.runtime import ServiceContext

DEMO_TRUST = "TR00001"
DEMO_TRUST_NAME = "Demo Learning Trust"


@dataclass(frozen=True)
class DemoSchool:
    urn: str
    name: str
    establishment_type: str
    phase: str
    laestab: str
    phone: str


SCHOOLS = [
    DemoSchool(
        "100001",
        "Oakfield Primary Academy",
        "Academy converter",
        "Primary",
        "2012001",
        "020 7946 0001",
    ),
    DemoSchool(
        "100002",
        "Riverside Secondary Academy",
        "Academy sponsor led",
        "Secondary",
        "2014002",
        "020 7946 0002",
    ),
    DemoSchool(
        "100003",
        "Beacon Special School",
        "Academy special converter",
        "All-through",
        "2017003",
        "020 7946 0003",
    ),
    DemoSchool(
        "100004",
        "Harbour Learning Centre",
        "Academy alternative provision converter",
        "Secondary",
        "2011004",
        "020 7946 0004",
    ),
]
FIRST = ["Alex", "Sam", "Jordan", "Riley", "Casey", "Morgan", "Taylor", "Jamie", "Robin", "Charlie"]
LAST = [
    "Smith",
    "Jones",
    "Patel",
    "Khan",
    "Williams",
    "Brown",
    "Taylor",
    "Davies",
    "Evans",
    "Wilson",
]
YEAR_BY_SCHOOL = {
    "100001": ["3", "4", "5", "6"],
    "100002": ["7", "8", "9", "10"],
    "100003": ["2", "6", "9", "12"],
    "100004": ["9", "10", "11", "11"],
}
PUPILS_PER_SCHOOL = 6


def demo_pupils() -> list[dict[str, object]]:
    """The demo pupils: deterministic, varied in SEN provision, FSM and year group."""
    pupils = []
    n = 0
    for school in SCHOOLS:
        for i in range(PUPILS_PER_SCHOOL):
            n += 1
            year = YEAR_BY_SCHOOL[school.urn][i % 4]
            age = int(year) + 5
            sen = "E" if school.urn == "100003" else ("K" if i % 3 == 0 else "N")
            pupils.append(
                {
                    "school_urn": school.urn,
                    "mis_ref": f"DEMO-{n:04d}",
                    "legal_first_name": FIRST[n % len(FIRST)],
                    "legal_last_name": LAST[(n * 3) % len(LAST)],
                    "date_of_birth": date(2026 - age, 1 + (n % 12), 1 + (n % 27)),
                    "sen_provision": sen,
                    "year_group": year,
                    "gender": "M" if n % 5 else "F",
                    "fsm_eligible": n % 4 == 0,
                    "ethnicity": ["WBRI", "ABAN", "BAFR", "MWBC"][n % 4],
                    # Some pupils have a handling plan on file naming the permitted holds.
                    "handling_plan": (
                        ["guide", "single_elbow", "locked_room"]
                        if n == 1 or school.urn == "100003"
                        else None
                    ),
                }
            )
    return pupils


STAFF_NAMES = ["Ms Priya Shah", "Mr Tom Hughes", "Mrs Ann Clarke"]
TRAINED = ["guide", "single_elbow", "double_elbow", "figure_of_four", "wrap", "seated_wrap"]


def demo_staff() -> list[dict[str, object]]:
    """Three staff per school (``STF-<n>001``..): two in date, the third's training lapsed."""
    out: list[dict[str, object]] = []
    for s in SCHOOLS:
        for k, name in enumerate(STAFF_NAMES, start=1):
            out.append(
                {
                    "school_urn": s.urn,
                    "staff_ref": f"STF-{s.urn[-1]}{k:03d}",
                    "name": name,
                    "role": "Teaching assistant" if k == 3 else "Teacher",
                    "email": f"staff{k}.{s.urn}@schools.example.org",
                    "expiry": date(2028, 8, 31) if k < 3 else date(2026, 6, 30),
                }
            )
    return out


async def seed_staff(conn: AsyncConnection, clock: Clock) -> None:
    """Demo staff, each with a Team Teach training record."""
    for st in demo_staff():
        await registry.upsert_staff(
            conn,
            clock,
            DEMO_TRUST,
            school_urn=str(st["school_urn"]),
            staff_ref=str(st["staff_ref"]),
            name=str(st["name"]),
            role=str(st["role"]),
            email=str(st["email"]),
        )
        await registry.record_training(
            conn,
            clock,
            DEMO_TRUST,
            school_urn=str(st["school_urn"]),
            staff_ref=str(st["staff_ref"]),
            provider="Team Teach",
            course="Positive Handling Level 2",
            certification="Team Teach Level 2 certificate",
            techniques=[*TRAINED, "locked_room"],
            completed_date=date(2025, 9, 1),
            expiry_date=st["expiry"],  # type: ignore[arg-type]
        )


async def seed_incidents(ctx: ServiceContext) -> bool:
    """Registry and history in the incidents database; False if the trust was already there."""
    clock = ctx.clock
    async with ctx.db.transaction() as conn:
        if await registry.trust_exists(conn, DEMO_TRUST):
            return False
        await registry.upsert_trust(conn, clock, DEMO_TRUST, DEMO_TRUST_NAME)
        for s in SCHOOLS:
            await registry.upsert_school(
                conn,
                clock,
                DEMO_TRUST,
                urn=s.urn,
                name=s.name,
                establishment_type=s.establishment_type,
                phase=s.phase,
                laestab=s.laestab,
                phone=s.phone,
                email=f"office{s.urn}@schools.example.org",
            )
        await registry.map_school_label(conn, DEMO_TRUST, "100002", "reflection room", "seclusion")
        for p in demo_pupils():
            await registry.upsert_pupil(conn, clock, DEMO_TRUST, **p)  # type: ignore[arg-type]
        await seed_staff(conn, clock)
    # History: a few incidents over the past weeks, each in its own transaction.
    seeder = Principal(subject="seed:demo", trust_id=DEMO_TRUST, role="trust_lead", schools=None)
    today = clock.now().astimezone(ZoneInfo("Europe/London")).date()
    kinds = [
        "physical_restraint",
        "seclusion",
        "reasonable_force",
        "physical_restraint",
        "time out",
    ]
    for k, p in enumerate(demo_pupils()):
        if k % 2:
            continue
        day = today - timedelta(days=3 + 2 * k)
        start = datetime.combine(day, time(10 + k % 5, 15), ZoneInfo("Europe/London"))
        body = IncidentCreate(
            school_urn=str(p["school_urn"]),
            pupil_ref=str(p["mis_ref"]),
            occurred_at=start,
            ended_at=start + timedelta(minutes=4 + k % 9),
            intervention_type=kinds[k % len(kinds)],
            summary="Historic record loaded with the demo trust.",
            source_system="demo-history",
            source_id=f"H-{k:04d}",
        )
        async with ctx.db.transaction() as conn:
            await submit_incident(conn, seeder, body, clock, historic=True)
    return True


async def seed_notifications(ctx: ServiceContext) -> int:
    """Each demo pupil's parents: one or two with parental responsibility, email and mobile."""
    count = 0
    async with ctx.db.transaction() as conn:
        for n, p in enumerate(demo_pupils(), start=1):
            pid = pupil_id(DEMO_TRUST, str(p["school_urn"]), str(p["mis_ref"]))
            parents = (
                [("mother", "Parent A"), ("father", "Parent B")] if n % 3 else [("carer", "Carer")]
            )
            for i, (relationship, label) in enumerate(parents, start=1):
                await upsert_contact(
                    conn,
                    ctx.clock,
                    DEMO_TRUST,
                    contact_id=contact_id(DEMO_TRUST, pid, f"C{i}"),
                    pupil_id=pid,
                    school_urn=str(p["school_urn"]),
                    name=f"{label} {p['legal_last_name']}",
                    relationship=relationship,
                    priority=i,
                    email=f"parent{n:04d}.{i}@parents.example.org",
                    mobile=f"+447700900{(n * 2 + i) % 1000:03d}",
                )
                count += 1
        # Named staff alerted when a report is at risk: each school's DSL and head, and
        # the trust lead.
        for s in SCHOOLS:
            for role in ("dsl", "head"):
                await upsert_escalation_contact(
                    conn,
                    ctx.clock,
                    DEMO_TRUST,
                    school_urn=s.urn,
                    role=role,
                    staff_id=f"{role}-{s.urn}",
                    name=f"{role.upper()} of {s.name}",
                    email=f"{role}.{s.urn}@schools.example.org",
                )
        await upsert_escalation_contact(
            conn,
            ctx.clock,
            DEMO_TRUST,
            school_urn="*",
            role="trust_lead",
            staff_id="trust-lead",
            name="Trust lead",
            email="trust.lead@trust.example.org",
        )
    return count
