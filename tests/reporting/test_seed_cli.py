"""``candour seed demo`` generates a trust through the services and relays it to reporting."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from typer.testing import CliRunner

from services.cli import app
from services.reporting import models as m
from shared.db.engine import Database


def test_seed_demo_generates_once_and_reaches_reporting(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("CANDOUR_VAR_DIR", str(tmp_path))
    runner = CliRunner()
    first = runner.invoke(app, ["seed", "demo", "--schools", "6", "--years", "1", "--seed", "3"])
    assert first.exit_code == 0, first.output
    assert "seeded TR00001: 6 schools" in first.output
    again = runner.invoke(app, ["seed", "demo", "--schools", "6"])
    assert again.exit_code == 0 and "already seeded" in again.output
    assert not (tmp_path / "outbox").exists() or not any((tmp_path / "outbox").iterdir())

    async def facts() -> tuple[int, int]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'reporting.db'}")
        try:
            async with db.engine.connect() as conn:
                n = await conn.scalar(sa.select(sa.func.count()).select_from(m.incident_fact))
                r = await conn.scalar(sa.select(sa.func.count()).select_from(m.roll))
                return int(n or 0), int(r or 0)
        finally:
            await db.dispose()

    incidents, roll_cells = asyncio.run(facts())
    assert incidents > 100 and roll_cells > 6 * 2 * 10
    bad = runner.invoke(app, ["seed", "demo", "--schools", "2"])
    assert bad.exit_code != 0
