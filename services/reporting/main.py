"""The reporting service app."""

from __future__ import annotations

from fastapi import FastAPI

from services.reporting import models
from services.reporting.config import SERVICE
from services.reporting.routers.reports import router
from shared.config import Settings
from shared.runtime import ServiceContext
from shared.web import assemble_app

DESCRIPTION = """\
Governance data a trust board can act on, from the incident and notification events:
aggregates only, small numbers suppressed for governors, nothing that identifies a child.
"""


def create_app(ctx: ServiceContext | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the reporting app; without a context it opens the configured database."""
    return assemble_app(
        SERVICE,
        ctx,
        settings,
        title="Candour reporting",
        description=DESCRIPTION,
        routers=[router],
        revoked_clients=models.revoked_client,
    )
