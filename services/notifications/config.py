"""The notifications service's own constants."""

from pathlib import Path

SERVICE = "notifications"
MIGRATIONS = Path(__file__).parent / "migrations"
TEMPLATES = Path(__file__).parent / "templates"
