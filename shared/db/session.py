"""The per-request transaction: the caller owns it, services only execute."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db.engine import Database

log = logging.getLogger("candour.db")


def get_database(request: Request) -> Database:
    """The app's database."""
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncConnection]:
    """A connection in one transaction per request: commit on success, roll back on error;
    after a commit, what the request asked to run then (:func:`after_commit`)."""
    db = get_database(request)
    jobs: list[Callable[[], Awaitable[object]]] = []
    request.state.after_commit = jobs
    async with db.transaction() as conn:
        yield conn
    for job in jobs:
        try:
            await job()
        except Exception as exc:  # committed already: the caller's answer stands
            log.warning("after-commit job failed", extra={"error": type(exc).__name__})


def after_commit(request: Request, job: Callable[[], Awaitable[object]]) -> None:
    """Run ``job`` once the request's transaction has committed (never if it rolls back):
    work that must see the request's writes, such as enqueueing a job that reads them."""
    request.state.after_commit.append(job)


SessionDep = Annotated[AsyncConnection, Depends(get_session)]
DatabaseDep = Annotated[Database, Depends(get_database)]
