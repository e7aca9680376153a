"""The incidents service app."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from services.incidents import models
from services.incidents.audit import audit_trail
from services.incidents.clients_router import router as clients_router
from services.incidents.config import SERVICE
from services.incidents.router import router
from services.incidents.router_audit import router as audit_router
from services.incidents.router_bulk import BULK_BODY_LIMIT, BULK_PATH
from services.incidents.router_bulk import router as bulk_router
from services.incidents.router_lifecycle import router as lifecycle_router
from services.incidents.router_registry import router as registry_router
from shared.config import Settings
from shared.outbox.feed import feed_router
from shared.runtime import ServiceContext
from shared.web import assemble_app

DESCRIPTION = """\
The trust record standard for restrictive interventions: common definitions, complete
records, append-only amendments, full audit. MIS vendors and school staff record
significant incidents here; each submission becomes an `incident.submitted.v1` event.
"""


def audited_feed() -> APIRouter:
    """The change feed, with each read in the audit log (its payloads can be pupil-level)."""
    wrapper = APIRouter(dependencies=[Depends(audit_trail)])
    wrapper.include_router(feed_router(SERVICE, models.outbox))
    return wrapper


def create_app(ctx: ServiceContext | None = None, settings: Settings | None = None) -> FastAPI:
    """Build the incidents app; without a context it opens the configured database."""
    return assemble_app(
        SERVICE,
        ctx,
        settings,
        title="Candour incidents",
        description=DESCRIPTION,
        body_limit_overrides={BULK_PATH: BULK_BODY_LIMIT},
        routers=[
            bulk_router,
            router,
            lifecycle_router,
            registry_router,
            audit_router,
            clients_router,
            audited_feed(),
        ],
        revoked_clients=models.revoked_client,
    )
