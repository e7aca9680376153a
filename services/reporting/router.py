"""The reporting API."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from services.reporting import service
from services.reporting.config import DEFAULT_SUPPRESSION_THRESHOLD
from services.reporting.schemas import TrustSummary
from shared.auth.dependencies import require_roles, require_trust
from shared.auth.principal import AGGREGATE_ONLY_ROLES, Principal
from shared.db.session import SessionDep
from shared.errors import ValidationFailed, problem_responses

router = APIRouter(prefix="/v1", tags=["reports"])
Reader = Annotated[
    Principal,
    Depends(
        require_roles("trust_lead", "governor", "portal_client", "service", "school_lead", "dsl")
    ),
]


def threshold_for(principal: Principal) -> int | None:
    """Aggregate-only audiences get small numbers suppressed."""
    if principal.role in AGGREGATE_ONLY_ROLES and not principal.pupil_level:
        return DEFAULT_SUPPRESSION_THRESHOLD
    return None


@router.get(
    "/trusts/{trust_id}/summary",
    response_model=TrustSummary,
    operation_id="get_trust_summary",
    responses=problem_responses(403, 404),
)
async def get_trust_summary(
    conn: SessionDep,
    principal: Reader,
    trust_id: Annotated[str, Path(pattern=r"^TR\d{5}$")],
    from_date: Annotated[date | None, Query(description="First local date")] = None,
    to_date: Annotated[date | None, Query(description="Last local date")] = None,
) -> TrustSummary:
    """Significant incidents by kind and school, and parent reports sent."""
    require_trust(principal, trust_id)
    if from_date and to_date and from_date > to_date:
        raise ValidationFailed(
            "from_date is after to_date.",
            errors=[{"pointer": "#/query/from_date", "detail": "after to_date"}],
        )
    return await service.trust_summary(
        conn, principal, threshold_for(principal), from_date, to_date
    )
