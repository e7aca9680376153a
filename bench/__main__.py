"""Reporting speed: every endpoint on a trust of 100,000 incidents in a store of 1,000,000.

The read model's base tables (facts, flags, reviews, parent reports, rolls, staff and
training) are filled directly in PostgreSQL (``generate_series``), ten trusts of equal
size in which each pupil belongs to one school; the rollups are then computed by
``services.reporting.refill.refill``, which a test holds equal to what the projections
keep. Each endpoint is then
called in process over HTTP (httpx + ASGI), as a trust lead and as a governor, and timed
(median of several runs). The baseline, measured in the same run, is the same endpoint
on a small trust (100 incidents) in the same store: the ratio shows what size costs, the
milliseconds what a caller waits. Exit status 1 if any endpoint takes 100 ms or more.

    python -m bench [--trusts 10] [--per-trust 100000] [--runs 5] [--reuse]
    CANDOUR_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa

from services.catalog import SPECS, migrate
from shared.auth.jwt import issue_token
from shared.clock import FrozenClock
from shared.config import Settings
from shared.db.engine import Database
from shared.runtime import ServiceContext

SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
BIG, SMALL = "TR10000", "TR99999"
PATHS = (
    "summary",
    "schools",
    "disproportionality",
    "outliers",
    "trends?metric=incidents&interval=week",
    "trends?metric=pupils&interval=month",
    "trends?metric=incidents&interval=month",
    "trends?metric=seclusion&interval=month&term=autumn",
    "training",
    "audit",
    # A term, a date range and a setting type: periods the rollups split into whole
    # months and days left over.
    "summary?term=autumn",
    "disproportionality?term=autumn",
    "schools?from_date=2026-09-10&to_date=2026-11-20",
    "summary?from_date=2026-09-10&to_date=2026-11-20&setting_type=special",
    # Distinct pupils from every day's facts: a ragged range, and a year by week.
    "disproportionality?from_date=2026-09-10&to_date=2026-11-20",
    "trends?metric=pupils&interval=week",
    # A kind and a measure by week: each interval settled with every school's.
    "trends?metric=seclusion&interval=week",
    "trends?metric=staff_injuries&interval=week",
)
FILL = """
INSERT INTO school (trust_id, urn, name, setting_type, timezone)
SELECT t, lpad((100000 + s)::text, 6, '0'), 'School ' || s,
       (ARRAY['primary','secondary','special','alternative_provision'])[1 + s % 4], 'Europe/London'
FROM unnest(CAST(:trusts AS text[])) t, generate_series(1, :schools) s;
INSERT INTO roll (trust_id, school_urn, academic_year, dimension, "group", count)
SELECT t, lpad((100000 + s)::text, 6, '0'), 2026, d.dim, d.grp, d.n
FROM unnest(CAST(:trusts AS text[])) t, generate_series(1, :schools) s,
     (VALUES ('all','all',900), ('sen','E',40), ('sen','K',120), ('sen','N',740),
             ('fsm','yes',200), ('fsm','no',700), ('gender','F',440), ('gender','M',460),
             ('ethnicity','WBRI',600), ('ethnicity','ABAN',300), ('year_group','7',450),
             ('year_group','8',450), ('fsm_ever6','yes',280), ('fsm_ever6','no',620))
     d(dim, grp, n);
INSERT INTO incident_fact (trust_id, incident_id, revision, school_urn, setting_type, pupil_id,
    occurred_at, local_date, intervention_type, significant, historic, recorded_at, sen_provision,
    year_group, gender, fsm_eligible, ethnicity, fsm_ever6, intervention_label, vocabulary_version,
    source, pupil_injured, staff_injuries, ground_restraint, voided, recorded_late)
SELECT t, t || '-' || i, 1, lpad((100000 + 1 + pp % :schools)::text, 6, '0'),
       (ARRAY['primary','secondary','special','alternative_provision'])
           [1 + (1 + pp % :schools) % 4],
       t || '-p' || pp,
       TIMESTAMPTZ '2026-09-01 09:00+00' + ((i % 85) || ' days')::interval
           + ((i % 360) || ' minutes')::interval,
       DATE '2026-09-01' + (i % 85),
       (ARRAY['physical_restraint','seclusion','reasonable_force','physical_restraint'])[1 + i % 4],
       true, true, TIMESTAMPTZ '2026-09-01 15:00+00' + ((i % 85) || ' days')::interval,
       -- a pupil's school and characteristics follow the pupil, not the incident
       (ARRAY['E','K','N','N','N'])[1 + pp % 5],
       (ARRAY['7','8'])[1 + pp % 2],
       (ARRAY['F','M'])[1 + pp % 3 % 2], pp % 4 = 0,
       (ARRAY['WBRI','ABAN'])[1 + pp % 7 % 2], pp % 3 = 0,
       CASE WHEN i % 4 = 1 THEN (ARRAY['seclusion','time out','reflection room'])[1 + pp % 3]
            ELSE 'hold' END,
       1, (ARRAY['mis-a','mis-b','direct'])[1 + pp % 3], i % 20 = 0, (i % 15 = 0)::int,
       i % 13 = 0, i % 97 = 0, i % 50 = 0
FROM unnest(CAST(:trusts AS text[])) t, generate_series(1, :per_trust) i,
     LATERAL (SELECT i * 7919 % :pupils AS pp) p;
INSERT INTO parent_report_status (trust_id, report_id, incident_id, school_urn,
    incident_occurred_at, first_sent_at, first_delivered_at, outcome, completed_at, withheld)
SELECT trust_id, incident_id || 'r', incident_id, school_urn, occurred_at,
       occurred_at + m * interval '1 minute', occurred_at + (m + 1.5) * interval '1 minute',
       CASE WHEN m > 400 THEN 'missed' ELSE 'met' END,
       occurred_at + (m + 1.5) * interval '1 minute', abs(hashtext(incident_id)) % 200 = 0
FROM incident_fact, LATERAL (SELECT 20 + abs(hashtext(incident_id)) % 450 AS m) d
WHERE trust_id = ANY(CAST(:trusts AS text[]));
INSERT INTO parent_report_fact (trust_id, report_id, incident_id, school_urn, channel,
    sent_at, incident_occurred_at)
SELECT trust_id, report_id, incident_id, school_urn, 'email', first_sent_at, incident_occurred_at
FROM parent_report_status WHERE trust_id = ANY(CAST(:trusts AS text[]));
INSERT INTO practice_flag (trust_id, incident_id, practice, flagged_at)
SELECT trust_id, incident_id, 'prone_hold', recorded_at
FROM incident_fact WHERE trust_id = ANY(CAST(:trusts AS text[])) AND length(incident_id) % 9 = 0;
INSERT INTO incident_review (trust_id, incident_id, reviewed_at, plan_changed)
SELECT trust_id, incident_id, recorded_at + interval '2 days', false
FROM incident_fact
WHERE trust_id = ANY(CAST(:trusts AS text[])) AND abs(hashtext(incident_id)) % 3 > 0;
INSERT INTO staff (trust_id, staff_id, school_urn, requires_training, active)
SELECT t, t || '-s' || k, lpad((100000 + 1 + k % :schools)::text, 6, '0'), true, true
FROM unnest(CAST(:trusts AS text[])) t, generate_series(1, :schools * 40) k;
INSERT INTO training_record (trust_id, training_id, staff_id, school_urn, provider,
    completed_on, expires_on)
SELECT trust_id, staff_id || 't', staff_id, school_urn, 'Team Teach', DATE '2025-01-01',
       -- one in ten lapsed in October
       CASE WHEN abs(hashtext(staff_id)) % 10 = 0 THEN DATE '2026-10-01'
            ELSE DATE '2026-12-01' + (length(staff_id) % 400) END
FROM staff WHERE trust_id = ANY(CAST(:trusts AS text[]));
INSERT INTO incident_staff (trust_id, incident_id, staff_id)
SELECT trust_id, incident_id, trust_id || '-s' || (1 + abs(hashtext(incident_id)) % 400)
FROM incident_fact WHERE trust_id = ANY(CAST(:trusts AS text[]));
INSERT INTO trust_state (trust_id, vocabulary_version, last_event_at)
SELECT t, 1, TIMESTAMPTZ '2026-11-27 10:00+00' FROM unnest(CAST(:trusts AS text[])) t;
"""


async def fill(db: Database, trusts: list[str], per_trust: int, small: int) -> None:
    """Ten big trusts, one small one, straight into the read model's base tables; then the
    rollups, computed by the same statements the projections are tested to agree with."""
    from services.reporting import models as m
    from services.reporting.refill import refill

    async with db.transaction() as conn:
        for name in reversed(m.READ_MODEL):
            await conn.execute(sa.text(f'TRUNCATE "{name}"'))
        for batch, n, schools in ((trusts, per_trust, 10 * 4), ([SMALL], small, 4)):
            for stmt in FILL.split(";\n"):
                if stmt.strip():
                    await conn.execute(
                        sa.text(stmt),
                        {
                            "trusts": batch,
                            "per_trust": n,
                            "schools": schools,
                            "pupils": max(10, n // 6),
                        },
                    )
        await conn.execute(sa.text("ANALYZE"))
        for statement in refill([*trusts, SMALL]):
            await conn.execute(statement)
    # As autovacuum would after a bulk load: statistics, and the visibility map that lets
    # PostgreSQL answer from an index alone.
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(sa.text("VACUUM ANALYZE"))


async def timed(client: httpx.AsyncClient, url: str, headers: dict[str, str], runs: int) -> float:
    """Median milliseconds of ``runs`` calls (after one warm-up)."""
    r = await client.get(url, headers=headers)
    r.raise_for_status()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        (await client.get(url, headers=headers)).raise_for_status()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


async def main() -> int:
    """Fill, then time every endpoint against its small-trust baseline."""
    ap = argparse.ArgumentParser(prog="python -m bench")
    ap.add_argument("--trusts", type=int, default=10)
    ap.add_argument("--per-trust", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument(
        "--reuse", action="store_true", help="keep the database of an earlier run (no fill)"
    )
    args = ap.parse_args()
    base = os.environ.get(
        "CANDOUR_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
    import asyncpg

    admin = await asyncpg.connect(base.replace("+asyncpg", ""))
    exists = await admin.fetchval(
        "SELECT 1 FROM pg_database WHERE datname = 'candour_bench_reporting'"
    )
    reuse = bool(args.reuse and exists)
    if not reuse:
        await admin.execute('DROP DATABASE IF EXISTS "candour_bench_reporting" WITH (FORCE)')
        await admin.execute('CREATE DATABASE "candour_bench_reporting"')
    await admin.close()
    url = base.rsplit("/", 1)[0] + "/candour_bench_reporting"
    settings = Settings(env="test", jwt_secret=SECRET, link_secret=SECRET + "-l")
    db = Database(url, pool_size=5, max_overflow=5)
    ctx = ServiceContext(
        "reporting", settings, db, FrozenClock(datetime(2026, 11, 27, 14, tzinfo=UTC))
    )
    await migrate(ctx)
    trusts = [BIG] + [f"TR1{k:04d}" for k in range(1, args.trusts)]
    if not reuse:
        started = time.perf_counter()
        await fill(db, trusts, args.per_trust, 100)
        print(
            f"filled {args.trusts} x {args.per_trust:,} incidents "
            f"in {time.perf_counter() - started:.1f}s"
        )
    app = SPECS["reporting"].create_app(ctx)
    worst = 0.0
    # Started as a server starts it (its lifespan), then called over HTTP in process.
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as c,
    ):
        for role in ("trust_lead", "governor"):
            print(f"\n{role}: endpoint, ms (100,000 incidents), baseline ms (100), ratio")
            for path in PATHS:
                if role == "governor" and ("from_date" in path or "interval=week" in path):
                    # Aggregate readers read academic years and terms (not date ranges), and
                    # trends by month or term.
                    continue
                ms = {}
                for trust in (BIG, SMALL):
                    tok = issue_token(settings, role=role, trust_id=trust, now=ctx.clock.now())
                    ms[trust] = await timed(
                        c,
                        f"/v1/trusts/{trust}/{path}",
                        {"Authorization": f"Bearer {tok}"},
                        args.runs,
                    )
                worst = max(worst, ms[BIG])
                print(f"  {path:<40} {ms[BIG]:8.1f} {ms[SMALL]:8.1f} {ms[BIG] / ms[SMALL]:6.1f}x")
    await db.dispose()
    print(f"\nslowest: {worst:.1f} ms ({'under' if worst < 100 else 'NOT under'} 100 ms)")
    return 0 if worst < 100 else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
