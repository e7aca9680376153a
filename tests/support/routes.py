"""The route inventory: every route of every app with the roles it admits, for table tests.

A route's roles come from the ``require_roles(...)`` dependencies it carries (each records
its ``roles``); a route that depends on the verified caller without naming roles admits
every role; a route that never asks for a caller is public.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from shared.auth.dependencies import get_principal
from shared.auth.principal import ROLES

# Values that satisfy each path parameter's pattern (an id that exists nowhere).
SAMPLE_PATH_VALUES: dict[str, str] = {
    "trust_id": "TR00001",
    "urn": "100001",
    "school_urn": "100001",
    "client_id": "TR00001-0123456789abcdef",
}
DEFAULT_PATH_VALUE = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class RouteInfo:
    """One operation of one service."""

    service: str
    method: str
    path: str
    operation_id: str | None
    public: bool
    roles: frozenset[str]  # the roles admitted (every role when only authenticated)
    has_body: bool
    path_params: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.service} {self.method} {self.path}"

    def sample_path(self, **values: str) -> str:
        """The path with each parameter filled (``values`` first, then samples)."""
        path = self.path
        for param in self.path_params:
            value = values.get(param) or SAMPLE_PATH_VALUES.get(param, DEFAULT_PATH_VALUE)
            path = path.replace("{" + param + "}", value)
        return path


def _walk(dependant: Dependant) -> Iterable[Any]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _walk(dep)


def _api_routes(routes: Iterable[Any]) -> Iterable[tuple[str, APIRoute]]:
    """Each APIRoute with its full path; FastAPI >= 0.16x keeps included routers lazily."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route.path, route
        elif hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                if isinstance(context.original_route, APIRoute):
                    yield context.path, context.original_route


def route_info(service: str, route: APIRoute, method: str, path: str | None = None) -> RouteInfo:
    """What one route admits."""
    calls = list(_walk(route.dependant))
    authenticated = any(call is get_principal for call in calls)
    roles = frozenset(ROLES)
    for call in calls:
        declared = getattr(call, "roles", None)
        if declared is not None:
            roles &= frozenset(declared)
    return RouteInfo(
        service=service,
        method=method,
        path=path or route.path,
        operation_id=route.operation_id,
        public=not authenticated,
        roles=roles if authenticated else frozenset(),
        has_body=route.body_field is not None or "requestBody" in (route.openapi_extra or {}),
        path_params=tuple(p.name for p in route.dependant.path_params),
    )


def inventory(apps: dict[str, FastAPI]) -> list[RouteInfo]:
    """Every API route of every app, one entry per method, in a stable order."""
    out = []
    for service, app in sorted(apps.items()):
        for path, route in _api_routes(app.routes):
            for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                out.append(route_info(service, route, method, path))
    return sorted(out, key=lambda r: (r.service, r.path, r.method))
