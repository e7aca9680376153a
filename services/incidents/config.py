"""The incidents service's own constants."""

from pathlib import Path

SERVICE = "incidents"
MIGRATIONS = Path(__file__).parent / "migrations"
