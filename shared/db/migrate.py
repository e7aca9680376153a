"""Alembic, driven from code: each service keeps its own migrations folder."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from shared.db.engine import Database


def alembic_config(migrations_dir: Path, url: str | None = None) -> Config:
    """An Alembic config for one service's migrations folder."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir))
    if url:
        cfg.set_main_option("sqlalchemy.url", url)
    return cfg


async def upgrade(db: Database, migrations_dir: Path, revision: str = "head") -> None:
    """Apply the service's migrations to ``db`` (safe inside a running event loop)."""
    cfg = alembic_config(migrations_dir, db.url)

    def _run(conn: Connection) -> None:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(_run)
