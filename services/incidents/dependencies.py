"""Dependencies of the incidents routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from shared.auth.dependencies import require_roles
from shared.auth.principal import Principal
from shared.clock import Clock

RECORDING_ROLES = ("recorder", "school_lead", "dsl", "trust_lead", "mis_client")

Recorder = Annotated[Principal, Depends(require_roles(*RECORDING_ROLES))]
# Amendments belong to leads; an MIS re-send with changes amends through its natural key.
Amender = Annotated[Principal, Depends(require_roles("school_lead", "dsl", "trust_lead"))]
Reviewer = Annotated[Principal, Depends(require_roles("school_lead", "dsl"))]
Closer = Annotated[Principal, Depends(require_roles("school_lead", "dsl", "trust_lead"))]


def get_clock(request: Request) -> Clock:
    """The app's clock."""
    clock: Clock = request.app.state.ctx.clock
    return clock


ClockDep = Annotated[Clock, Depends(get_clock)]
