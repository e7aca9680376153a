"""The reporting service's own constants."""

from pathlib import Path

SERVICE = "reporting"
MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_SUPPRESSION_THRESHOLD = 4  # counts 1..4 are suppressed for governors
