"""Alembic environment of the incidents database."""

from services.incidents.models import metadata
from shared.db.alembic_env import run_migrations

run_migrations(metadata)
