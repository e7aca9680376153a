"""The request guard: what every service refuses before any route sees the request.

- a body over the limit -> 413, whether declared by Content-Length or streamed without one
  (the body is read here, at most ``limit`` bytes, and handed on to the app);
- a NUL character in the path, the query or a JSON string -> 400/422 (PostgreSQL text
  cannot hold one, and no field of ours needs one);
- a JSON body that is not UTF-8 or nests deeper than ``MAX_JSON_DEPTH`` -> 400.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import (
    PROBLEM_JSON,
    BadRequest,
    CandourError,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)

MAX_JSON_DEPTH = 64


def _find_nul(value: Any, path: list[str]) -> list[str] | None:
    """The JSON pointer parts of the first string (or key) holding a NUL character."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            part = str(key).replace("~", "~0").replace("/", "~1")
            if "\x00" in key:
                return [*path, part.replace("\x00", "")]
            found = _find_nul(item, [*path, part])
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _find_nul(item, [*path, str(i)])
            if found is not None:
                return found
    return None


_JSON_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays/objects deeper than ``limit`` (strings skipped).

    Strings are cut out and every other byte but brackets deleted at C speed first, so a
    large body of many shallow objects (a bulk import) costs a loop over its brackets only.
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def check_json_body(body: bytes) -> None:
    """Refuse a JSON body that is not UTF-8, nests too deep, or carries a NUL character."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The request body is not valid UTF-8.") from None
    if json_depth_exceeds(body):
        raise BadRequest(f"The request body nests deeper than {MAX_JSON_DEPTH} levels.")
    if "\\u0000" not in text:
        return
    try:
        parsed = json.loads(text)
    except ValueError:
        return  # not JSON at all: the route answers that
    found = _find_nul(parsed, [])
    if found is not None:
        raise ValidationFailed(
            "A text field holds a NUL character.",
            errors=[{"pointer": "/" + "/".join(found), "detail": "NUL characters are not allowed"}],
        )


class _Disconnected(Exception):
    """The client went away before its body arrived."""


class RequestGuard:
    """ASGI middleware applying the checks above; ``overrides`` maps path prefixes to limits."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        overrides: dict[str, int] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.overrides = overrides or {}
        self.headers = headers or {}

    def _limit_for(self, path: str) -> int:
        for prefix, limit in self.overrides.items():
            if path.startswith(prefix):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._check(scope, receive)
        except _Disconnected:
            return  # the client left mid-body: nobody to answer
        except CandourError as err:
            response = JSONResponse(
                err.problem(scope["path"]),
                status_code=err.status,
                media_type=PROBLEM_JSON,
                headers={**self.headers, **err.headers},
            )
            await response(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _check(self, scope: Scope, receive: Receive) -> bytes:
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
        if b"\x00" in unquote_to_bytes(raw_path):
            # No resource of ours has a NUL in its name.
            raise NotFound("No such resource.")
        problems = [
            {"pointer": f"#/query/{name}", "detail": "NUL characters are not allowed"}
            for name, value in parse_qsl(
                scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True
            )
            if "\x00" in name or "\x00" in value
        ]
        if problems:
            raise ValidationFailed("A query parameter holds a NUL character.", errors=problems)
        headers = dict(scope.get("headers", []))
        limit = self._limit_for(scope["path"])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                if int(declared) > limit:
                    raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
            except ValueError:
                raise BadRequest("Content-Length is not a number.") from None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"The request body exceeds {limit} bytes.")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if body and (ctype == b"application/json" or ctype.endswith(b"+json")):
            check_json_body(body)
        return body
