"""One error hierarchy, rendered as RFC 9457 problem+json by one set of handlers."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("candour.errors")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://candour.example/problems/"


class CandourError(Exception):
    """Base of every error a Candour service answers with."""

    status = 500
    code = "internal-error"
    title = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = list(errors) if errors else None
        self.headers = headers or {}
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 body."""
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.code,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class BadRequest(CandourError):
    status, code, title = 400, "bad-request", "Bad request"


class Unauthorized(CandourError):
    status, code, title = 401, "unauthorized", "Not authenticated"

    def __init__(self, detail: str | None = None, **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": 'Bearer realm="candour"'})
        super().__init__(detail, **kw)


class Forbidden(CandourError):
    status, code, title = 403, "forbidden", "Forbidden"


class NotFound(CandourError):
    status, code, title = 404, "not-found", "Not found"


class Conflict(CandourError):
    status, code, title = 409, "conflict", "Conflict"


class PreconditionFailed(CandourError):
    status, code, title = 412, "precondition-failed", "Precondition failed"


class PayloadTooLarge(CandourError):
    status, code, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(CandourError):
    status, code, title = 415, "unsupported-media-type", "Unsupported media type"


class ValidationFailed(CandourError):
    status, code, title = 422, "validation-failed", "Validation failed"


class RateLimited(CandourError):
    status, code, title = 429, "rate-limited", "Too many requests"


class ServiceUnavailable(CandourError):
    status, code, title = 503, "service-unavailable", "Service unavailable"


def pointer(loc: Sequence[str | int]) -> str:
    """A JSON pointer (RFC 6901) for a pydantic error location, without its 'body' prefix."""
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where = parts.pop(0)
        if where != "body":
            # Parameters are named, not pointed at; keep them readable.
            return "#/" + "/".join(str(p) for p in [where, *parts])
    escaped = [str(p).replace("~", "~0").replace("/", "~1") for p in parts]
    return "/" + "/".join(escaped) if escaped else ""


def validation_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Pydantic's errors as ``{pointer, detail}``, one per problem."""
    out = []
    for err in errors:
        loc = err.get("loc", ())
        msg = err.get("msg", "invalid")
        out.append({"pointer": pointer(loc), "detail": msg})
    return out


def problem_response(exc: CandourError, request: Request | None = None) -> JSONResponse:
    """Render any CandourError."""
    instance = str(request.url.path) if request is not None else None
    return JSONResponse(
        exc.problem(instance),
        status_code=exc.status,
        media_type=PROBLEM_JSON,
        headers=exc.headers,
    )


_HTTP_STATUS_TO_ERROR: dict[int, type[CandourError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: ValidationFailed,
    429: RateLimited,
    503: ServiceUnavailable,
}


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the app's OpenAPI document declares for ``path`` (and HEAD with GET)."""
    patterns: list[tuple[re.Pattern[str], list[str]]] | None = getattr(
        app.state, "allowed_methods", None
    )
    if patterns is None:
        patterns = []
        for template, item in app.openapi().get("paths", {}).items():
            source = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            methods = [m.upper() for m in item if m in _HTTP_METHODS]
            patterns.append((re.compile(f"^{source}$"), methods))
        app.state.allowed_methods = patterns
    matches = [(pattern, methods) for pattern, methods in patterns if pattern.match(path)]
    # A literal path (/v1/incidents/bulk) is its own resource, even where a templated one
    # (/v1/incidents/{incident_id}) would also match it.
    literal = [m for p, m in matches if "[^/]+" not in p.pattern]
    found: set[str] = set()
    for methods in literal or [m for _, m in matches]:
        found.update(methods)
    if "GET" in found:
        found.add("HEAD")
    return sorted(found)


_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app can raise leaves as problem+json."""

    @app.exception_handler(CandourError)
    async def _candour(request: Request, exc: CandourError) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        # A body that is not JSON at all is a 400, not a field-level 422.
        if any(e.get("type") == "json_invalid" for e in errs):
            return problem_response(
                BadRequest(
                    "The request body is not valid JSON.",
                    errors=validation_errors(errs),
                ),
                request,
            )
        return problem_response(
            ValidationFailed(
                "The request has invalid or missing fields; see errors.",
                errors=validation_errors(errs),
            ),
            request,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 405:
            # Starlette names only the first matching route's methods; list the path's all.
            allowed = allowed_methods(request.app, request.url.path)
            if allowed:
                exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
        cls = _HTTP_STATUS_TO_ERROR.get(exc.status_code)
        if cls is None:
            # Keep the exception's headers: a 405 must say which methods are Allowed.
            err = CandourError(str(exc.detail), headers=dict(exc.headers or {}))
            err.status = exc.status_code
            err.code = f"http-{exc.status_code}"
            err.title = str(exc.detail)
        else:
            detail = exc.detail if isinstance(exc.detail, str) else None
            err = cls(detail, headers=dict(exc.headers or {}))
        return problem_response(err, request)

    @app.exception_handler(Exception)
    async def _last_resort(request: Request, exc: Exception) -> JSONResponse:
        error_id = str(uuid.uuid4())
        log.error(
            "unhandled error",
            exc_info=exc,
            extra={"error_id": error_id, "path": request.url.path},
        )
        return problem_response(
            CandourError(
                "An unexpected error occurred; quote the error id to support.",
                error_id=error_id,
            ),
            request,
        )


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["pointer", "detail"],
                "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}},
            },
        },
    },
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for problem+json statuses an endpoint can answer."""
    titles = {s: c.title for s, c in _HTTP_STATUS_TO_ERROR.items()}
    titles[500] = "Internal error"
    return {
        s: {
            "description": titles.get(s, "Problem"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }
