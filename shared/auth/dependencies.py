"""FastAPI dependencies: the verified caller, and the roles a route admits."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth.jwks import JwksUnavailable
from shared.auth.jwt import TokenError, token_header, verify_token
from shared.auth.principal import Principal
from shared.config import Settings
from shared.errors import Forbidden, NotFound, RateLimited, ServiceUnavailable, Unauthorized

# auto_error=False: we answer 401 ourselves, as problem+json.
bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description=(
        "A Candour JWT. Machine clients (MIS, portal) obtain one, valid for at most ten "
        "minutes, from the incidents service's `POST /v1/oauth/token` (OAuth2 client "
        "credentials); staff tokens come from the trust's identity provider."
    ),
)


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The verified caller, or 401; 429 over the client's rate limit; 401 once revoked."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.")
    state = request.app.state
    settings: Settings = state.settings
    token = credentials.credentials
    jwks = None
    jwks_cache = getattr(state, "jwks", None)
    if jwks_cache is not None and len(token) <= settings.jwt_max_token_bytes:
        header = token_header(token)
        if str(header.get("alg", "")).startswith(("RS", "ES", "PS")):
            try:
                jwks = await jwks_cache.keys(header.get("kid"))
            except JwksUnavailable:
                raise ServiceUnavailable("The token signing keys cannot be fetched.") from None
    try:
        principal = verify_token(token, settings, state.ctx.clock.now(), jwks=jwks)
    except TokenError as exc:
        raise Unauthorized(str(exc)) from None
    limiter = getattr(state, "rate_limiter", None)
    if limiter is not None:
        decision = await limiter.hit(
            f"{principal.trust_id}:{principal.client_id or principal.subject}"
        )
        if not decision.allowed:
            raise RateLimited(
                f"More than {decision.limit} requests in the window; retry later.",
                headers={"Retry-After": str(decision.retry_after)},
            )
    revocations = getattr(state, "revocations", None)
    if principal.client_id and revocations is not None:
        if await revocations.is_revoked(principal.trust_id, principal.client_id):
            raise Unauthorized("This client's access has been revoked.")
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

    _dep.roles = allowed  # type: ignore[attr-defined]  # read by the route inventory
    return _dep


def require_trust(principal: Principal, trust_id: str) -> None:
    """404 for any trust but the caller's own (its existence is not confirmed)."""
    if not principal.may_see_trust(trust_id):
        raise NotFound("No such trust.")


def require_school(principal: Principal, urn: str) -> None:
    """404 for a school outside the caller's scope."""
    if not principal.may_see_school(urn):
        raise NotFound("No such school.")
