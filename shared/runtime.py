"""What a running service holds: its settings, database, clock and (optionally) Redis."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.clock import Clock, SystemClock
from shared.config import Settings
from shared.db.engine import Database


@dataclass
class ServiceContext:
    """Handed to an app factory, a worker or a relay; tests build their own."""

    service: str
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    redis: Any = None  # an ArqRedis pool when the bus is arq

    async def readiness(self) -> dict[str, str]:
        """Whether the database (and Redis, when used) answer."""
        checks: dict[str, str] = {}
        try:
            await self.db.ping()
            checks["database"] = "ok"
        except Exception as exc:  # readiness reports, never raises
            checks["database"] = f"unavailable: {type(exc).__name__}"
        if self.redis is not None:
            try:
                await self.redis.ping()
                checks["redis"] = "ok"
            except Exception as exc:
                checks["redis"] = f"unavailable: {type(exc).__name__}"
        return checks
