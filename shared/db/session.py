"""The per-request transaction: the caller owns it, services only execute."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.db.engine import Database


def get_database(request: Request) -> Database:
    """The app's database."""
    db: Database = request.app.state.db
    return db


async def get_session(request: Request) -> AsyncIterator[AsyncConnection]:
    """A connection in one transaction per request: commit on success, roll back on error."""
    db = get_database(request)
    async with db.transaction() as conn:
        yield conn


SessionDep = Annotated[AsyncConnection, Depends(get_session)]
DatabaseDep = Annotated[Database, Depends(get_database)]
