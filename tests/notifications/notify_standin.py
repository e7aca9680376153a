"""A GOV.UK Notify stand-in on loopback, following the documented v2 API.

Tokens are verified with the official client's ``decode_jwt_token``; errors come as
``{"errors": [{"error", "message"}], "status_code"}``; statuses move from created to
delivered or a failure, and delivery receipts are posted to a callback with a bearer token.
Recipients choose a behaviour: ``ratelimit*`` (429 twice), ``down*`` (500 always),
``flaky*`` (500 once), ``slow*`` (accepted, answered too late), ``invalid*`` (400).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from notifications_python_client.authentication import decode_jwt_token, get_token_issuer
from notifications_python_client.errors import TokenError

SERVICE_ID = "5a0f6c0e-1f4e-4bb5-9c55-0c8f0f9b6a11"
SECRET = "0d7c6c43-3bd1-4d5b-8f88-8a4b1c8f3e21"
API_KEY = f"candour_test-{SERVICE_ID}-{SECRET}"
EMAIL_TEMPLATE = "9d5d3b7e-1111-4a4a-9e9e-000000000001"
SMS_TEMPLATE = "9d5d3b7e-2222-4a4a-9e9e-000000000002"


def _error(status: int, error: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"errors": [{"error": error, "message": message}], "status_code": status},
        status_code=status,
    )


class NotifyStandIn:
    """The server's state and its app."""

    def __init__(self) -> None:
        self.notifications: dict[str, dict[str, Any]] = {}
        self.requests: Counter[str] = Counter()
        self.tokens_seen: list[str] = []  # the issuer of each verified token
        self.app = self._build()
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def _auth(self, request: Request) -> JSONResponse | None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer "):
            return _error(401, "AuthError", "Unauthorized: authentication token must be provided")
        token = header.removeprefix("Bearer ")
        try:
            if get_token_issuer(token) != SERVICE_ID:
                return _error(403, "AuthError", "Invalid token: service not found")
            decode_jwt_token(token, SECRET)
            self.tokens_seen.append(SERVICE_ID)
        except TokenError as exc:
            return _error(403, "AuthError", f"Invalid token: {exc.message}")
        return None

    def _build(self) -> FastAPI:
        app = FastAPI()

        async def create(request: Request, kind: str) -> JSONResponse:
            denied = self._auth(request)
            if denied:
                return denied
            body = await request.json()
            field = "email_address" if kind == "email" else "phone_number"
            to = str(body.get(field) or "")
            self.requests[to] += 1
            if not to or not body.get("template_id"):
                return _error(400, "ValidationError", f"{field} is a required property")
            if to.startswith("invalid"):
                return _error(400, "BadRequestError", f"{field} Not a valid email address")
            if to.startswith("ratelimit") and self.requests[to] <= 2:
                return _error(
                    429,
                    "RateLimitError",
                    "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
                )
            if to.startswith("down") or (to.startswith("flaky") and self.requests[to] == 1):
                return _error(500, "Exception", "Internal server error")
            nid = str(uuid.uuid4())
            now = datetime.now(UTC).isoformat()
            self.notifications[nid] = {
                "id": nid,
                "reference": body.get("reference"),
                "to": to,
                "status": "created",
                "created_at": now,
                "completed_at": None,
                "sent_at": None,
                "notification_type": kind,
                "personalisation": body.get("personalisation"),
            }
            if to.startswith("slow") and self.requests[to] == 1:
                await asyncio.sleep(1.0)  # longer than the client waits
            return JSONResponse(
                {
                    "id": nid,
                    "reference": body.get("reference"),
                    "content": {"body": (body.get("personalisation") or {}).get("body", "")},
                    "uri": f"/v2/notifications/{nid}",
                    "template": {"id": body["template_id"], "version": 1, "uri": ""},
                },
                status_code=201,
            )

        @app.post("/v2/notifications/email")
        async def email(request: Request) -> JSONResponse:
            return await create(request, "email")

        @app.post("/v2/notifications/sms")
        async def sms(request: Request) -> JSONResponse:
            return await create(request, "sms")

        @app.get("/v2/notifications")
        async def search(request: Request, reference: str | None = None) -> JSONResponse:
            denied = self._auth(request)
            if denied:
                return denied
            found = [n for n in self.notifications.values() if n["reference"] == reference]
            return JSONResponse({"notifications": found, "links": {}})

        @app.get("/v2/notifications/{nid}")
        async def one(request: Request, nid: str) -> JSONResponse:
            denied = self._auth(request)
            if denied:
                return denied
            if nid not in self.notifications:
                return _error(404, "NoResultFound", "No result found")
            return JSONResponse(self.notifications[nid])

        return app

    async def start(self) -> None:
        """Serve on a free loopback port."""
        from tests.notifications.conftest import free_port

        self.port = free_port()
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_config=None,
            access_log=False,
            lifespan="off",
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:  # noqa: ASYNC110 (uvicorn offers no started event)
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        assert self._server is not None and self._task is not None
        self._server.should_exit = True
        await self._task

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def deliver(
        self,
        reference: str,
        status: str,
        callback: httpx.AsyncClient,
        url: str,
        token: str,
        completed_at: datetime | None = None,
    ) -> httpx.Response:
        """Move a notification to ``status`` and post its delivery receipt, as Notify does."""
        n = next(x for x in self.notifications.values() if x["reference"] == reference)
        at = (completed_at or datetime.now(UTC)).isoformat()
        n.update(status=status, completed_at=at, sent_at=n["sent_at"] or at)
        receipt = {
            k: n[k]
            for k in (
                "id",
                "reference",
                "to",
                "status",
                "created_at",
                "completed_at",
                "sent_at",
                "notification_type",
            )
        }
        return await callback.post(url, json=receipt, headers={"Authorization": f"Bearer {token}"})
