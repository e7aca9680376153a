"""FastAPI dependencies: the verified caller, and the roles a route admits."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth.jwt import TokenError, verify_token
from shared.auth.principal import Principal
from shared.config import Settings
from shared.errors import Forbidden, NotFound, Unauthorized

# auto_error=False: we answer 401 ourselves, as problem+json.
bearer = HTTPBearer(auto_error=False, description="A Candour JWT")


def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The verified caller, or 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.")
    settings: Settings = request.app.state.settings
    try:
        principal = verify_token(
            credentials.credentials, settings, request.app.state.ctx.clock.now()
        )
    except TokenError as exc:
        raise Unauthorized(str(exc)) from None
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency admitting only ``roles`` (others get 403)."""
    allowed = frozenset(roles)

    async def _dep(principal: PrincipalDep) -> Principal:
        if principal.role not in allowed:
            raise Forbidden(f"The role {principal.role!r} may not use this route.")
        return principal

    return _dep


def require_trust(principal: Principal, trust_id: str) -> None:
    """404 for any trust but the caller's own (its existence is not confirmed)."""
    if not principal.may_see_trust(trust_id):
        raise NotFound("No such trust.")


def require_school(principal: Principal, urn: str) -> None:
    """404 for a school outside the caller's scope."""
    if not principal.may_see_school(urn):
        raise NotFound("No such school.")
