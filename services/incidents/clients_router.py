"""Machine clients (trust leads manage them) and the OAuth2 client-credentials token endpoint."""

from __future__ import annotations

import base64
import binascii
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Body, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from services.incidents import clients
from services.incidents.client_schemas import (
    CLIENT_ID_PATTERN,
    EXAMPLE_CLIENT,
    Client,
    ClientCreate,
    ClientWithSecret,
    OAuthError,
    SecretRotate,
    TokenResponse,
)
from services.incidents.dependencies import ClockDep
from shared.auth.dependencies import require_roles
from shared.auth.jwt import issue_token
from shared.auth.principal import Principal
from shared.db.session import SessionDep
from shared.errors import problem_responses

router = APIRouter(tags=["clients"])
TrustLead = Annotated[Principal, Depends(require_roles("trust_lead"))]
ClientId = Annotated[str, Path(pattern=CLIENT_ID_PATTERN, description="The client's id")]


def _revoked_here(request: Request) -> None:
    """Forget cached answers in this process, so its next request sees the revocation."""
    cache = getattr(request.app.state, "revocations", None)
    if cache is not None:
        cache.invalidate()


@router.post(
    "/v1/clients",
    status_code=201,
    response_model=ClientWithSecret,
    operation_id="register_client",
    responses={
        201: {
            "description": "Registered; the secret is shown this once",
            "links": {
                op: {"operationId": op, "parameters": {"client_id": "$response.body#/client_id"}}
                for op in ("get_client", "rotate_client_secret", "revoke_client")
            },
        },
        **problem_responses(403),
    },
)
async def register_client(
    conn: SessionDep,
    principal: TrustLead,
    clock: ClockDep,
    response: Response,
    body: Annotated[
        ClientCreate,
        Body(openapi_examples={"mis": {"summary": "An MIS client", "value": EXAMPLE_CLIENT}}),
    ],
) -> ClientWithSecret:
    """Register an MIS or portal client; the response shows its secret, once."""
    created = await clients.register_client(conn, principal, body, clock.now())
    response.headers["Location"] = f"/v1/clients/{created.client_id}"
    return created


@router.get(
    "/v1/clients",
    response_model=list[Client],
    operation_id="list_clients",
    responses=problem_responses(403),
)
async def list_clients(conn: SessionDep, principal: TrustLead, clock: ClockDep) -> list[Client]:
    """The trust's machine clients (never their secrets)."""
    return await clients.list_clients(conn, principal, clock.now())


@router.get(
    "/v1/clients/{client_id}",
    response_model=Client,
    operation_id="get_client",
    responses=problem_responses(403, 404),
)
async def get_client(
    conn: SessionDep, principal: TrustLead, clock: ClockDep, client_id: ClientId
) -> Client:
    """One machine client of the trust."""
    return await clients.get_client(conn, principal, client_id, clock.now())


@router.post(
    "/v1/clients/{client_id}/rotate-secret",
    response_model=ClientWithSecret,
    operation_id="rotate_client_secret",
    responses=problem_responses(403, 404, 409),
)
async def rotate_client_secret(
    request: Request,
    conn: SessionDep,
    principal: TrustLead,
    clock: ClockDep,
    client_id: ClientId,
    body: Annotated[SecretRotate | None, Body()] = None,
) -> ClientWithSecret:
    """Issue a new secret; the old one keeps working for the overlap, then stops."""
    seconds = body.overlap_seconds if body and body.overlap_seconds is not None else None
    if seconds is None:
        seconds = request.app.state.settings.client_secret_overlap_seconds
    return await clients.rotate_secret(
        conn, principal, client_id, clock.now(), timedelta(seconds=seconds)
    )


@router.post(
    "/v1/clients/{client_id}/revoke",
    response_model=Client,
    operation_id="revoke_client",
    responses=problem_responses(403, 404),
)
async def revoke_client(
    request: Request,
    conn: SessionDep,
    principal: TrustLead,
    clock: ClockDep,
    client_id: ClientId,
) -> Client:
    """Revoke a client: every service refuses its tokens within seconds (client.revoked.v1)."""
    client = await clients.revoke_client(conn, principal, client_id, clock.now())
    _revoked_here(request)
    return client


OAUTH_PARAMETERS = frozenset({"grant_type", "client_id", "client_secret", "scope"})
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
TOKEN_FORM: dict[str, Any] = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["grant_type"],
                "properties": {
                    "grant_type": {"type": "string", "enum": ["client_credentials"]},
                    "client_id": {"type": "string"},
                    "client_secret": {"type": "string"},
                    "scope": {"type": "string", "description": "Space-separated subset"},
                },
            },
            "example": {
                "grant_type": "client_credentials",
                "client_id": "TR00001-0123456789abcdef",
                "client_secret": "cs_...",
            },
        }
    },
}


def _oauth_error(status: int, error: str, description: str, **headers: str) -> JSONResponse:
    body = OAuthError(error=error, error_description=description)  # type: ignore[arg-type]
    return JSONResponse(body.model_dump(), status_code=status, headers={**NO_STORE, **headers})


def _basic(request: Request) -> tuple[str, str] | bool | None:
    """Client id and secret from HTTP Basic (RFC 6749 §2.3.1); False when malformed."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, sep, password = decoded.partition(":")
    if not sep:
        return False
    return unquote_plus(user), unquote_plus(password)


@router.post(
    "/v1/oauth/token",
    tags=["oauth"],
    operation_id="issue_client_token",
    description=(
        "OAuth2 client credentials (RFC 6749 §4.4). Authenticate with HTTP Basic "
        "(`client_id:client_secret`, RFC 6749 §2.3.1) or with `client_id` and `client_secret` "
        "in the form, not both. `scope` may narrow the registered scopes. The access token is "
        "a JWT valid for at most ten minutes; send it as `Authorization: Bearer ...` to every "
        "Candour service. Errors follow RFC 6749 §5.2 (`application/json`, not problem+json)."
    ),
    response_model=TokenResponse,
    openapi_extra={"requestBody": TOKEN_FORM},
    responses={
        400: {"description": "RFC 6749 §5.2 error", "model": OAuthError},
        401: {"description": "invalid_client", "model": OAuthError},
        429: {"description": "Too many attempts", "model": OAuthError},
    },
)
async def issue_client_token(request: Request, conn: SessionDep, clock: ClockDep) -> Any:
    """OAuth2 client credentials (RFC 6749 §4.4): a client's id and secret for a short JWT."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return _oauth_error(400, "invalid_request", "Send application/x-www-form-urlencoded.")
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return _oauth_error(400, "invalid_request", "The body is not UTF-8.")
    # §3.2: our parameters may not repeat; unrecognised ones are ignored.
    names = [k for k, _ in pairs if k in OAUTH_PARAMETERS]
    if len(names) != len(set(names)):
        return _oauth_error(400, "invalid_request", "A parameter is repeated.")
    form = dict(pairs)
    grant = form.get("grant_type")
    if not grant:
        return _oauth_error(400, "invalid_request", "grant_type is required.")
    if grant != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "Only client_credentials is supported.")
    basic = _basic(request)
    in_body = "client_id" in form or "client_secret" in form
    if basic is False or (basic and in_body):
        return _oauth_error(400, "invalid_request", "Use one client authentication method.")
    if isinstance(basic, tuple):
        client_id, secret = basic
    else:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
    challenge = {"WWW-Authenticate": 'Basic realm="candour"'}
    if not client_id or not secret or len(client_id) > 64 or len(secret) > 200:
        return _oauth_error(401, "invalid_client", "Client authentication failed.", **challenge)
    limiter = request.app.state.rate_limiter
    if limiter is not None:
        # Per client id (guessing one secret) and per address (each check costs a scrypt).
        address = request.client.host if request.client else "unknown"
        for key in (f"oauth:{client_id}", f"oauth-address:{address}"):
            decision = await limiter.hit(key)
            if not decision.allowed:
                return _oauth_error(
                    429,
                    "invalid_request",
                    "Too many attempts.",
                    **{"Retry-After": str(decision.retry_after)},
                )
    now = clock.now()
    row = await clients.authenticate(conn, client_id, secret, now)
    if row is None:
        return _oauth_error(401, "invalid_client", "Client authentication failed.", **challenge)
    granted = set(row.scopes)
    asked = form.get("scope")
    if asked is not None:
        wanted = set(asked.split())
        if not wanted <= granted:
            return _oauth_error(
                400, "invalid_scope", "The scope exceeds the client's registration."
            )
        granted = wanted
    settings = request.app.state.settings
    ttl = min(settings.client_token_ttl_seconds, 600)
    token = issue_token(
        settings,
        role=row.role,
        trust_id=row.trust_id,
        schools=None if list(row.schools) == ["*"] else list(row.schools),
        subject=f"client:{row.client_id}",
        ttl=timedelta(seconds=ttl),
        scope=" ".join(sorted(granted)) or None,
        client_id=row.client_id,
        now=now,
    )
    body = TokenResponse(
        access_token=token, token_type="Bearer", expires_in=ttl, scope=" ".join(sorted(granted))
    )
    return JSONResponse(body.model_dump(), headers=NO_STORE)
