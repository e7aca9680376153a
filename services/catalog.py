"""The three services as the CLI and embedded mode see them: apps, migrations, outboxes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from fastapi import FastAPI

from services.incidents import config as incidents_config
from services.incidents import main as incidents_main
from services.incidents import models as incidents_models
from services.notifications import config as notifications_config
from services.notifications import main as notifications_main
from services.notifications import models as notifications_models
from services.reporting import config as reporting_config
from services.reporting import main as reporting_main
from services.reporting import models as reporting_models
from shared.config import Settings
from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.runtime import ServiceContext


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    migrations: Path
    outbox: sa.Table
    create_app: Callable[..., FastAPI]


SPECS: dict[str, ServiceSpec] = {
    "incidents": ServiceSpec(
        "incidents", incidents_config.MIGRATIONS, incidents_models.outbox, incidents_main.create_app
    ),
    "notifications": ServiceSpec(
        "notifications",
        notifications_config.MIGRATIONS,
        notifications_models.outbox,
        notifications_main.create_app,
    ),
    "reporting": ServiceSpec(
        "reporting", reporting_config.MIGRATIONS, reporting_models.outbox, reporting_main.create_app
    ),
}


def context(service: str, settings: Settings, **kwargs: object) -> ServiceContext:
    """A context on the service's configured database."""
    return ServiceContext(service, settings, Database(settings.database_url(service)), **kwargs)  # type: ignore[arg-type]


async def migrate(ctx: ServiceContext) -> None:
    """Apply the service's migrations."""
    await upgrade(ctx.db, SPECS[ctx.service].migrations)
