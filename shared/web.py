"""What every Candour service app has: problem+json errors, health, metrics, limits, headers."""

from __future__ import annotations

import gc
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth.jwks import JwksCache
from shared.auth.revocation import RevocationCache
from shared.config import Settings, get_settings
from shared.db.engine import Database
from shared.errors import (
    PROBLEM_JSON,
    PROBLEM_SCHEMA,
    PayloadTooLarge,
    install_error_handlers,
    problem_responses,
)
from shared.guards import RequestGuard
from shared.logging import request_id_var
from shared.ratelimit import limiter_for
from shared.runtime import ServiceContext
from shared.schemas import Health

REQUESTS = Counter(
    "candour_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
LATENCY = Histogram(
    "candour_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
# /docs loads Swagger UI's script and styles.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    "https://fastapi.tiangolo.com; frame-ancestors 'none'"
)


class BodyLimit:
    """Refuse request bodies over a limit with 413, counting streamed bytes too.

    Kept for existing callers; service apps use ``shared.guards.RequestGuard``, which also
    answers 413 itself when a streamed body overruns (FastAPI would turn an exception raised
    while it reads the body into a 400).

    ``overrides`` maps a path prefix to its own limit (the bulk import's 32 MiB).
    """

    def __init__(self, app: ASGIApp, limit: int, overrides: dict[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.overrides = overrides or {}

    def _limit_for(self, path: str) -> int:
        for prefix, limit in self.overrides.items():
            if path.startswith(prefix):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope["path"])
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await self._refuse(scope, receive, send, limit)
                    return
        received = 0
        exceeded = False
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
            return message

        async def guarded_send(message: Message) -> None:
            # Whatever the app made of the interrupted body (FastAPI calls it a 400),
            # the answer is 413.
            nonlocal refused
            if not exceeded:
                await send(message)
            elif not refused:
                refused = True
                await self._refuse(scope, receive, send, limit)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except PayloadTooLarge:
            if not refused:
                refused = True
                await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        err = PayloadTooLarge(f"The request body exceeds {limit} bytes.")
        response = JSONResponse(
            err.problem(scope["path"]), status_code=413, media_type=PROBLEM_JSON
        )
        await response(scope, receive, send)


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", "unmatched")


def create_service_app(
    service: str,
    *,
    title: str,
    description: str,
    version: str = "1.0.0",
    lifespan: Any = None,
    body_limit: int = 1024 * 1024,
    body_limit_overrides: dict[str, int] | None = None,
    readiness: Callable[[FastAPI], Awaitable[dict[str, str]]] | None = None,
    openapi_tags: list[dict[str, str]] | None = None,
) -> FastAPI:
    """A FastAPI app with Candour's common behaviour; the service adds its routers."""
    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        openapi_tags=openapi_tags,
        responses=problem_responses(400, 401, 422, 429, 500),
    )
    install_error_handlers(app)

    @app.middleware("http")
    async def _common(request: Request, call_next: Callable[[Request], Awaitable[Response]]):  # type: ignore[no-untyped-def]
        rid = request.headers.get("x-request-id") or str(uuid.uuid4())
        if len(rid) > 64 or not rid.replace("-", "").isalnum():
            rid = str(uuid.uuid4())
        token = request_id_var.set(rid)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            request_id_var.reset(token)
        route = _route_template(request)
        REQUESTS.labels(service, request.method, route, str(response.status_code)).inc()
        LATENCY.labels(service, request.method, route).observe(time.perf_counter() - started)
        response.headers["X-Request-ID"] = rid
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if request.url.path.startswith("/docs"):
            response.headers["Content-Security-Policy"] = DOCS_CSP
        return response

    app.add_middleware(
        RequestGuard, limit=body_limit, overrides=body_limit_overrides, headers=SECURITY_HEADERS
    )

    @app.get("/healthz", tags=["health"], response_model=Health, operation_id="healthz")
    async def healthz() -> Health:
        """The process is up."""
        return Health(status="ok", service=service)

    @app.get(
        "/readyz",
        tags=["health"],
        response_model=Health,
        operation_id="readyz",
        responses={503: {"description": "A dependency does not answer", "model": Health}},
    )
    async def readyz(request: Request) -> Any:
        """The service's database (and Redis, when used) answer."""
        checks: dict[str, str] = {}
        if readiness is not None:
            checks = await readiness(request.app)
        ok = all(v == "ok" for v in checks.values())
        body = Health(status="ok" if ok else "unavailable", service=service, checks=checks)
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    async def metrics() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    _add_problem_schema(app)
    return app


def _add_problem_schema(app: FastAPI) -> None:
    """Put the Problem schema in components, where every problem response points."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


async def _enqueue_pool(url: str) -> Any:
    """An arq pool for a served app's jobs, or None (logged) when Redis cannot be reached:
    the app still serves, and the sweeper does what the jobs would have done."""
    from arq.connections import create_pool

    from shared.bus.arq_bus import redis_settings

    settings = redis_settings(url)
    settings.conn_retries = 1
    try:
        return await create_pool(settings)
    except Exception as exc:
        logging.getLogger("candour.web").warning(
            "no Redis for enqueueing; the sweeper will pick work up",
            extra={"error": type(exc).__name__},
        )
        return None


def assemble_app(
    service: str,
    ctx: ServiceContext | None,
    settings: Settings | None,
    *,
    title: str,
    description: str,
    routers: list[APIRouter],
    body_limit_overrides: dict[str, int] | None = None,
    revoked_clients: sa.Table | None = None,
    enqueues: bool = False,
) -> FastAPI:
    """A service's app around its context; without one, it opens the configured database.

    ``enqueues``: the service's routes enqueue arq jobs (``ctx.redis``); a served app with
    ``CANDOUR_REDIS_URL`` set opens a pool for them (without Redis, the sweeper finds what
    they would have woken).

    ``revoked_clients`` is the service's ``revoked_client`` table: tokens of a client in it
    are refused.
    """
    owned = ctx is None
    if ctx is None:
        settings = settings or get_settings()
        ctx = ServiceContext(service, settings, Database(settings.database_url(service)))  # type: ignore[arg-type]
    context = ctx

    limiter = limiter_for(context.settings, service)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # What the process built to start (modules, table metadata, schemas, routes) lives
        # as long as it does: moved out of the cyclic collector's reach, whose full passes
        # would otherwise walk all of it, tens of milliseconds in the middle of a request.
        gc.collect()
        gc.freeze()
        pool = None
        if owned and enqueues and context.redis is None and context.settings.redis_url:
            pool = await _enqueue_pool(context.settings.redis_url)
            context.redis = pool
        yield
        if pool is not None:
            context.redis = None
            await pool.aclose()
        if limiter is not None:
            await limiter.aclose()
        if owned:
            await context.db.dispose()

    async def readiness(_app: FastAPI) -> dict[str, str]:
        return await context.readiness()

    app = create_service_app(
        service,
        title=title,
        description=description,
        lifespan=lifespan,
        body_limit=context.settings.max_body_bytes,
        body_limit_overrides=body_limit_overrides,
        readiness=readiness,
    )
    app.state.ctx = context
    app.state.db = context.db
    app.state.settings = context.settings
    app.state.rate_limiter = limiter
    if revoked_clients is not None:
        app.state.revocations = RevocationCache(
            context.db, revoked_clients, context.settings.revocation_cache_seconds
        )
    if context.settings.jwt_jwks_url:
        app.state.jwks = JwksCache(
            context.settings.jwt_jwks_url, context.settings.jwt_jwks_cache_seconds
        )
    for router in routers:
        app.include_router(router)
    if context.settings.cors_origins:
        # Outermost, so a browser's preflight is answered before authentication.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=context.settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
            expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID"],
            max_age=600,
        )
    return app
