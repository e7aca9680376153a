"""Alembic environment of the reporting database."""

from services.reporting.models import metadata
from shared.db.alembic_env import run_migrations

run_migrations(metadata)
