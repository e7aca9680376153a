"""The audit log: who read or wrote what; append-only in the database; a hash chain."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from services import catalog
from services.cli import app as cli
from services.incidents import audit
from shared.clock import FrozenClock
from shared.config import Settings, get_settings
from shared.db.engine import Database
from shared.runtime import ServiceContext
from tests.incidents.helpers import make_incident
from tests.support.fixtures import auth

pytestmark = pytest.mark.usefixtures("seeded")


async def _entries(clients, token, **params) -> list[dict]:
    r = await clients["incidents"].get(
        "/v1/audit", params=params, headers=auth(token("trust_lead"))
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_writes_and_pupil_reads_are_audited(clients, token) -> None:
    recorder = auth(token("recorder", schools=["100001"]))
    r = await clients["incidents"].post("/v1/incidents", json=make_incident(), headers=recorder)
    iid, pid = r.json()["incident_id"], r.json()["pupil_id"]
    await clients["incidents"].get(f"/v1/incidents/{iid}", headers=recorder)
    await clients["incidents"].get("/v1/schools/100001/pupils/DEMO-0001", headers=recorder)
    await clients["incidents"].get("/v1/vocabulary", headers=recorder)  # no pupil data: not audited
    await clients["incidents"].get("/v1/incidents/nope", headers=recorder)  # refused: nothing read

    entries = await _entries(clients, token)
    assert [(e["method"], e["route"], e["action"]) for e in reversed(entries)] == [
        ("POST", "/v1/incidents", "write"),
        ("GET", "/v1/incidents/{incident_id}", "read"),
        ("GET", "/v1/schools/{urn}/pupils/{mis_ref}", "read"),
    ]
    feed = await clients["incidents"].get("/v1/events", headers=auth(token("mis_client")))
    assert feed.status_code == 200
    latest = (await _entries(clients, token, limit=1))[0]
    assert (latest["route"], latest["role"]) == ("/v1/events", "mis_client")
    entries = [e for e in entries if e["route"] != "/v1/events"]
    assert {e["role"] for e in entries} == {"recorder"}
    assert all(e["pupil_id"] == pid for e in entries)
    assert entries[1]["resource"] == f"/v1/incidents/{iid}"
    assert [e["seq"] for e in await _entries(clients, token, action="write")] == [1]
    by_pupil = await _entries(clients, token, pupil_id=pid, limit=2)
    assert len(by_pupil) == 2 and all(e["pupil_id"] == pid for e in by_pupil)
    for role in ("school_lead", "governor", "recorder"):
        denied = await clients["incidents"].get("/v1/audit", headers=auth(token(role)))
        assert denied.status_code == 403
    other = await clients["incidents"].get(
        "/v1/audit", headers=auth(token("trust_lead", trust="TR00002"))
    )
    assert other.json()["items"] == []


async def test_audit_rows_cannot_be_changed_or_removed(clients, token, seeded) -> None:
    await clients["incidents"].post(
        "/v1/incidents", json=make_incident(), headers=auth(token("recorder"))
    )
    db = seeded["incidents"].db
    for stmt in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"):
            async with db.transaction() as conn:
                await conn.execute(sa.text(stmt))
    async with db.transaction() as conn:
        count, breaks = await audit.verify(conn)
    assert count >= 1 and breaks == []


async def _tamper(db: Database, sql: str) -> None:
    """Bypass the triggers as only a database owner could, to prove verify notices."""
    async with db.transaction() as conn:
        if db.dialect == "postgresql":
            await conn.execute(
                sa.text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            )
            await conn.execute(sa.text(sql))
            await conn.execute(
                sa.text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
            )
        else:
            await conn.execute(sa.text("DROP TRIGGER audit_log_no_update"))
            await conn.execute(sa.text("DROP TRIGGER audit_log_no_delete"))
            await conn.execute(sa.text(sql))


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        (
            "UPDATE audit_log SET actor = 'someone else' WHERE seq = 2",
            "changed since it was written",
        ),
        ("DELETE FROM audit_log WHERE seq = 2", "gap: expected entry 2"),
    ],
    ids=["change", "gap"],
)
async def test_verify_finds_a_change_or_a_gap(clients, token, seeded, sql, problem) -> None:
    recorder = auth(token("recorder"))
    for _ in range(3):
        await clients["incidents"].post("/v1/incidents", json=make_incident(), headers=recorder)
    await _tamper(seeded["incidents"].db, sql)
    async with seeded["incidents"].db.transaction() as conn:
        _, breaks = await audit.verify(conn, "TR00001")
    assert breaks and breaks[0].seq in (2, 3) and breaks[0].problem == problem


def test_cli_audit_verify(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'incidents.db'}"

    async def _prepare() -> None:
        from datetime import UTC, datetime

        ctx = ServiceContext(
            "incidents",
            Settings(env="dev"),
            Database(url),
            FrozenClock(datetime(2026, 11, 27, tzinfo=UTC)),
        )
        await catalog.migrate(ctx)
        async with ctx.db.transaction() as conn:
            for n in range(3):
                await audit.append(
                    conn,
                    ctx.clock,
                    trust_id="TR00001",
                    actor=f"user{n}",
                    role="recorder",
                    client=None,
                    action="write",
                    method="POST",
                    route="/v1/incidents",
                    resource="/v1/incidents",
                )
        await ctx.db.dispose()

    asyncio.run(_prepare())
    monkeypatch.setenv("CANDOUR_ENV", "dev")
    monkeypatch.setenv("CANDOUR_INCIDENTS_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        ok = CliRunner().invoke(cli, ["audit", "verify"])
        assert ok.exit_code == 0, ok.output
        assert "3 entries" in ok.output

        async def _break() -> None:
            db = Database(url)
            await _tamper(db, "DELETE FROM audit_log WHERE seq = 2")
            await db.dispose()

        asyncio.run(_break())
        broken = CliRunner().invoke(cli, ["audit", "verify", "--trust", "TR00001"])
        assert broken.exit_code == 1
        assert "entry 3" in broken.output or "entry 3" in (broken.stderr or "")
    finally:
        get_settings.cache_clear()
