"""Alembic environment of the notifications database."""

from services.notifications.models import metadata
from shared.db.alembic_env import run_migrations

run_migrations(metadata)
