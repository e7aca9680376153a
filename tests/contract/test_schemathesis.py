"""Schemathesis against each service in process: every check, as a permitted role.

Each service runs on its own freshly migrated SQLite database with the demo trust, built
in the fixture; its engine is disposed before schemathesis calls it, so every connection
is opened on schemathesis' own event loop. Each operation is called with a real token of
a role the route admits (the role matrix tests the other roles). Findings are fixed in the
API, never filtered out of the generator.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig
from sqlalchemy.pool import NullPool

from services import catalog, demo
from services.incidents.schemas import EXAMPLE_INCIDENT
from shared.auth.jwt import issue_token
from shared.clock import FrozenClock
from shared.config import SERVICES, Settings
from shared.db.engine import Database
from shared.runtime import ServiceContext
from tests.support.backends import Backends
from tests.support.fixtures import TEST_SECRET
from tests.support.routes import inventory

EXAMPLES = 25
STATEFUL_EXAMPLES = 80
# Every check is on. One expectation is ours to state: a schema-valid request naming a row
# that does not exist (an unknown school or pupil, a cursor this service never issued) is
# 422 with the field's pointer, by design (DESIGN §4), and a write whose If-Match names a
# revision that is not the current one is 412, and one without If-Match 428 (DESIGN §4);
# a 400 or 5xx still fails the check.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": [
                    *("2xx", "3xx", "401", "403", "404", "409", "412", "422", "428", "429")
                ]
            }
        }
    }
)


@schemathesis.serializer("application/x-ndjson")
def ndjson(ctx, value) -> bytes | None:  # type: ignore[no-untyped-def]
    """The bulk import's body: NDJSON text, sent as generated (any string, valid or not).

    A value that is not text has no NDJSON form: the request goes without a body.
    """
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return None


PREFERRED = ("trust_lead", "service", "mis_client", "recorder", "school_lead", "dsl", "governor")


@dataclass
class ServiceUnderTest:
    """One service's app and the token each of its operations is called with."""

    name: str
    app: FastAPI
    tokens: dict[tuple[str, str], str | None]
    statuses: dict[tuple[str, str], set[int]] = field(default_factory=dict)
    snapshot: Path | None = None  # the prepared SQLite database, to start each run afresh

    def reset(self) -> None:
        """Put the prepared database back (no connection is pooled: see ``_build``)."""
        assert self.snapshot is not None
        live = self.snapshot.with_name(self.name + ".db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{live}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(self.snapshot, live)


async def _recreate_postgres(base_url: str, name: str, create: bool = True) -> str:
    import asyncpg

    admin = await asyncpg.connect(base_url.replace("+asyncpg", ""))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return f"{base_url.rpartition('/')[0]}/{name}"


def _pg_name(service: str) -> str:
    return f"candour_st_{service}_{os.getpid()}"


def _build(
    service: str, var_dir: Path, now: datetime, pg_base: str | None, fresh: bool = False
) -> ServiceUnderTest:
    """The service, migrated and seeded; ``fresh``: restorable before each stateful run."""
    settings = Settings(
        env="test",
        jwt_secret=TEST_SECRET,
        link_secret=TEST_SECRET + "-links",
        var_dir=var_dir,
        rate_limit_per_minute=0,  # hundreds of calls a minute from one token, on purpose
    )
    clock = FrozenClock(now)
    url = f"sqlite+aiosqlite:///{var_dir / (service + '.db')}"
    if pg_base:
        url = asyncio.run(_recreate_postgres(pg_base, _pg_name(service)))
    # A stateful run's steps depend on what earlier runs stored (a list grows; hypothesis
    # then sees the same choices draw differently), so each run starts from the prepared
    # file; without a pool, no connection outlives a request to see the file replaced.
    db = Database(url, poolclass=NullPool) if fresh else Database(url)
    ctx = ServiceContext(service, settings, db, clock)

    async def prepare() -> None:
        await catalog.migrate(ctx)
        if service == "incidents":
            await demo.seed_incidents(ctx)
        elif service == "notifications":
            await demo.seed_notifications(ctx)
        await db.dispose()  # later connections belong to schemathesis' loop

    asyncio.run(prepare())
    app = catalog.SPECS[service].create_app(ctx)
    tokens: dict[tuple[str, str], str | None] = {}
    for route in inventory({service: app}):
        role = next((r for r in PREFERRED if r in route.roles), None)
        tokens[(route.method, route.path)] = (
            None
            if route.public or role is None
            else issue_token(
                settings,
                role=role,
                trust_id=demo.DEMO_TRUST,
                ttl=timedelta(hours=2),
                now=clock.now(),
            )
        )
    snapshot = None
    if fresh:
        snapshot = var_dir / (service + ".prepared.db")
        shutil.copyfile(var_dir / (service + ".db"), snapshot)
    return ServiceUnderTest(service, app, tokens, snapshot=snapshot)


@pytest.fixture(
    params=[(s, b) for b in ("sqlite", "postgres") for s in SERVICES],
    ids=lambda p: f"{p[1]}-{p[0]}",  # "[postgres-..." is deselected without PostgreSQL
)
def service_under_test(
    request: pytest.FixtureRequest, tmp_path: Path, now: datetime, backends: Backends
):
    service, backend, *fresh = request.param
    if backend == "postgres" and not backends.postgres:
        pytest.fail("PostgreSQL is not reachable")  # deselected before this outside CI
    pg = backends.postgres_url if backend == "postgres" else None
    sut = _build(service, tmp_path, now, pg, fresh=bool(fresh))
    yield sut
    asyncio.run(sut.app.state.db.dispose())
    if backend == "postgres":
        asyncio.run(_recreate_postgres(backends.postgres_url, _pg_name(service), create=False))
    # The tokens were real: every operation was reached past authentication at least once.
    for op, token in sut.tokens.items():
        seen = sut.statuses.get(op, set())
        if sut.statuses and token and op[1] != "/metrics":
            assert seen and not seen <= {401, 403}, (sut.name, op, seen)


@pytest.fixture
def api_schema(service_under_test: ServiceUnderTest):
    sut = service_under_test
    loaded = schemathesis.openapi.from_asgi("/openapi.json", sut.app, config=CONFIG)

    # Programmatic auth, so schemathesis can still drop the header for its negative cases.
    @loaded.auth(refresh_interval=None)
    class PermittedRole:
        def get(self, case, context) -> str | None:
            return sut.tokens.get((case.method.upper(), case.path))

        def set(self, case, data, context) -> None:
            if data:
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hsettings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_conforms(case, service_under_test: ServiceUnderTest) -> None:
    """All checks, response-schema conformance included, as a role the route admits."""
    sut = service_under_test
    response = case.call_and_validate()
    sut.statuses.setdefault((case.method.upper(), case.path), set()).add(response.status_code)


@pytest.mark.parametrize("service_under_test", [("incidents", "sqlite")], indirect=True)
def test_stateful_client_lifecycle(api_schema, service_under_test: ServiceUnderTest) -> None:
    """Register -> read -> rotate -> revoke -> read, following the document's links."""
    # The clients' operations only: among the whole API's, a run seldom chose them twice.
    base = api_schema.include(tag="clients").as_state_machine()
    seen: set[tuple[str, str, int]] = set()

    class Machine(base):  # type: ignore[misc, valid-type]
        def after_call(self, response, case) -> None:
            super().after_call(response, case)
            seen.add((case.method.upper(), case.path, response.status_code))

    Machine.run(
        settings=hsettings(
            # The incidents API has many operations; enough runs to walk the client's links.
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=10,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    # The links were followed with ids the API issued.
    assert ("GET", "/v1/clients/{client_id}", 200) in seen, sorted(seen)
    assert ("POST", "/v1/clients/{client_id}/revoke", 200) in seen, sorted(seen)


@pytest.mark.parametrize("service_under_test", [("incidents", "sqlite", "fresh")], indirect=True)
def test_stateful_incident_lifecycle(api_schema, service_under_test: ServiceUnderTest) -> None:
    """Create -> read -> amend -> list, following the document's links from the create."""

    # A random body never names the demo trust's school and pupil, and a random amendment
    # names fields no record has, so neither would ever succeed: beside each generated
    # positive body, offer the document's own example under a fresh natural key, and an
    # amendment of one real field. Generated bodies are still sent; nothing is filtered out.
    keys = itertools.count()
    amendment = {"reason": "Location corrected", "changes": {"location": "Year 4 cloakroom"}}

    # The record's own operations only (the rest are walked by the conformance test): among
    # every incidents operation a run seldom chose a link twice in a row. Schemathesis still
    # follows each link's parameters only most of the time, at random.
    incidents = api_schema.include(
        operation_id=[
            "submit_incident",
            "get_incident",
            "amend_incident",
            "list_incidents",
            "list_incident_revisions",
        ]
    )

    @incidents.hook
    def flatmap_case(context, case):  # type: ignore[no-untyped-def]
        op = context.operation
        negative = case.meta is not None and case.meta.generation.mode.is_negative
        if op is None or negative or op.method.upper() != "POST":
            return st.just(case)

        def seeded(_: object):  # type: ignore[no-untyped-def]
            if op.path == "/v1/incidents":
                # A new natural key every time, so that a replayed step is answered alike.
                case.body = {**EXAMPLE_INCIDENT, "source_id": f"ST-{next(keys)}"}
            else:
                case.body = dict(amendment)
            return case

        if op.path in ("/v1/incidents", "/v1/incidents/{incident_id}/amendments"):
            return st.one_of(st.just(case), st.just(None).map(seeded))
        return st.just(case)

    base = incidents.as_state_machine()
    seen: set[tuple[str, str, int]] = set()
    created: set[str] = set()  # ids the API answered a create with
    listed: set[str] = set()  # ids it listed (the demo trust's, and this run's)
    used: dict[str, set[str]] = {"read": set(), "amend": set()}  # ids answered with 200

    class Machine(base):  # type: ignore[misc, valid-type]
        def setup(self) -> None:
            super().setup()
            service_under_test.reset()

        def after_call(self, response, case) -> None:
            super().after_call(response, case)
            key = (case.method.upper(), case.path, response.status_code)
            seen.add(key)
            if key[2] not in (200, 201):
                return
            iid = str((case.path_parameters or {}).get("incident_id"))
            if key[:2] == ("POST", "/v1/incidents"):
                created.add(response.json()["incident_id"])
            elif key[:2] == ("GET", "/v1/incidents"):
                listed.update(i["incident_id"] for i in response.json()["items"])
            elif key[:2] == ("GET", "/v1/incidents/{incident_id}"):
                used["read"].add(iid)
            elif key[:2] == ("POST", "/v1/incidents/{incident_id}/amendments"):
                used["amend"].add(iid)

    Machine.run(
        settings=hsettings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=10,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
    )
    mine = str(sorted(k for k in seen if k[1].startswith("/v1/incidents")))
    assert ("POST", "/v1/incidents", 201) in seen, mine
    assert ("GET", "/v1/incidents/{incident_id}", 200) in seen, mine
    assert ("POST", "/v1/incidents/{incident_id}/amendments", 200) in seen, mine
    assert ("GET", "/v1/incidents", 200) in seen, mine
    # Reads and amendments reached records this run created, so by the create's links (a
    # random id finds nothing), and never a record the API had not itself named.
    assert used["read"] & created and used["amend"] & created, (used, created)
    assert used["read"] | used["amend"] <= created | listed
