"""The notifications service app."""

from __future__ import annotations

from fastapi import FastAPI

from services.notifications import models
from services.notifications.config import SERVICE
from services.notifications.router import router
from services.notifications.router_actions import router as actions_router
from services.notifications.router_contacts import router as contacts_router
from services.notifications.router_providers import router as providers_router
from services.notifications.router_templates import router as templates_router
from shared.config import Settings
from shared.outbox.feed import feed_router
from shared.runtime import ServiceContext
from shared.web import assemble_app

DESCRIPTION = """\
Every parent told the same day, in writing, with proof: parent reports created from
incident events, sent by email and SMS, each step time-stamped.
"""


def create_app(ctx: ServiceContext | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the notifications app; without a context it opens the configured database."""
    return assemble_app(
        SERVICE,
        ctx,
        settings,
        title="Candour notifications",
        description=DESCRIPTION,
        routers=[
            router,
            actions_router,
            contacts_router,
            templates_router,
            providers_router,
            feed_router(SERVICE, models.outbox),
        ],
        revoked_clients=models.revoked_client,
        # Decisions and delivery receipts wake a report's steps at once (arq), not at the
        # sweeper's next pass.
        enqueues=True,
    )
