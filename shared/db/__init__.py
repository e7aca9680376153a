"""Database plumbing shared by the services: engines, sessions, types, migrations."""

from shared.db.engine import Database, make_engine
from shared.db.types import UTCDateTime, metadata_for

__all__ = ["Database", "UTCDateTime", "make_engine", "metadata_for"]
