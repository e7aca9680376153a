"""Machine clients: registration, secrets (hashed, rotated with overlap), revocation.

Every query is scoped by the trust: the trust reference leads the client id, so even the
unauthenticated token endpoint looks a client up by ``(trust_id, client_id)``.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import models as m
from services.incidents.client_schemas import Client, ClientCreate, ClientWithSecret
from shared.auth.client_secret import hash_secret, new_secret, verify_secret
from shared.auth.principal import TRUST_RE, Principal
from shared.auth.revocation import CLIENT_REVOKED, record_revocation
from shared.errors import Conflict, NotFound, ValidationFailed
from shared.events.payloads import ClientRevokedV1
from shared.outbox.writer import record_event

log = logging.getLogger("candour.incidents.clients")

# Verified when no client matches, so an unknown id costs as much time as a wrong secret.
_DUMMY_HASH = hash_secret("candour-no-such-client")


def trust_of(client_id: str) -> str | None:
    """The trust a client id belongs to, or None when it is not one of ours."""
    trust = client_id.split("-", 1)[0]
    return trust if TRUST_RE.match(trust) else None


def _live(now: datetime) -> sa.ColumnElement[bool]:
    s = m.api_client_secret
    return s.c.expires_at.is_(None) | (s.c.expires_at > now)


async def _secrets_valid(
    conn: AsyncConnection, trust_id: str, client_id: str, now: datetime
) -> int:
    s = m.api_client_secret
    n = await conn.scalar(
        sa.select(sa.func.count())
        .select_from(s)
        .where((s.c.trust_id == trust_id) & (s.c.client_id == client_id) & _live(now))
    )
    return int(n or 0)


async def _to_client(conn: AsyncConnection, row: sa.Row, now: datetime) -> Client:
    valid = 0 if row.revoked_at else await _secrets_valid(conn, row.trust_id, row.client_id, now)
    return Client(
        client_id=row.client_id,
        trust_id=row.trust_id,
        name=row.name,
        role=row.role,
        schools=list(row.schools),
        scopes=list(row.scopes),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        secrets_valid=valid,
    )


async def _get_row(conn: AsyncConnection, trust_id: str, client_id: str) -> sa.Row | None:
    c = m.api_client
    return (
        await conn.execute(
            sa.select(c).where((c.c.trust_id == trust_id) & (c.c.client_id == client_id))
        )
    ).first()


async def _add_secret(conn: AsyncConnection, trust_id: str, client_id: str, now: datetime) -> str:
    secret = new_secret()
    await conn.execute(
        m.api_client_secret.insert().values(
            trust_id=trust_id,
            client_id=client_id,
            secret_id=str(uuid.uuid4()),
            secret_hash=hash_secret(secret),
            created_at=now,
        )
    )
    return secret


async def register_client(
    conn: AsyncConnection, principal: Principal, body: ClientCreate, now: datetime
) -> ClientWithSecret:
    """Register a client for the caller's trust; its secret is returned this once."""
    if body.schools != ["*"]:
        s = m.school
        known = set(
            (
                await conn.execute(
                    sa.select(s.c.urn).where(
                        (s.c.trust_id == principal.trust_id) & s.c.urn.in_(body.schools)
                    )
                )
            ).scalars()
        )
        unknown = [i for i, urn in enumerate(body.schools) if urn not in known]
        if unknown:
            raise ValidationFailed(
                "Some schools are not in the trust's registry.",
                errors=[{"pointer": f"/schools/{i}", "detail": "no such school"} for i in unknown],
            )
    client_id = f"{principal.trust_id}-{secrets.token_hex(8)}"
    await conn.execute(
        m.api_client.insert().values(
            trust_id=principal.trust_id,
            client_id=client_id,
            name=body.name,
            role=body.role,
            schools=body.schools,
            scopes=body.scopes,
            created_at=now,
            created_by=principal.subject,
        )
    )
    secret = await _add_secret(conn, principal.trust_id, client_id, now)
    log.info(
        "client registered",
        extra={"trust_id": principal.trust_id, "client_id": client_id, "role": body.role},
    )
    row = await _get_row(conn, principal.trust_id, client_id)
    assert row is not None
    client = await _to_client(conn, row, now)
    return ClientWithSecret(**client.model_dump(), client_secret=secret)


async def list_clients(conn: AsyncConnection, principal: Principal, now: datetime) -> list[Client]:
    """Every client of the caller's trust, oldest first."""
    c = m.api_client
    rows = (
        await conn.execute(
            sa.select(c)
            .where(c.c.trust_id == principal.trust_id)
            .order_by(c.c.created_at, c.c.client_id)
        )
    ).all()
    return [await _to_client(conn, r, now) for r in rows]


async def get_client(
    conn: AsyncConnection, principal: Principal, client_id: str, now: datetime
) -> Client:
    """One client of the caller's trust, or 404."""
    row = await _get_row(conn, principal.trust_id, client_id)
    if row is None:
        raise NotFound("No such client.")
    return await _to_client(conn, row, now)


async def rotate_secret(
    conn: AsyncConnection,
    principal: Principal,
    client_id: str,
    now: datetime,
    overlap: timedelta,
) -> ClientWithSecret:
    """A new secret; the old ones keep working until ``now + overlap``."""
    row = await _get_row(conn, principal.trust_id, client_id)
    if row is None:
        raise NotFound("No such client.")
    if row.revoked_at is not None:
        raise Conflict("The client is revoked; register a new one.")
    s = m.api_client_secret
    ends = now + overlap
    await conn.execute(
        s.update()
        .where(
            (s.c.trust_id == principal.trust_id)
            & (s.c.client_id == client_id)
            & (s.c.expires_at.is_(None) | (s.c.expires_at > ends))
        )
        .values(expires_at=ends)
    )
    secret = await _add_secret(conn, principal.trust_id, client_id, now)
    log.info(
        "client secret rotated", extra={"trust_id": principal.trust_id, "client_id": client_id}
    )
    client = await _to_client(conn, row, now)
    return ClientWithSecret(
        **client.model_dump(), client_secret=secret, previous_secret_expires_at=ends
    )


async def revoke_client(
    conn: AsyncConnection, principal: Principal, client_id: str, now: datetime
) -> Client:
    """Revoke a client: no new tokens, and every service refuses its tokens within seconds."""
    row = await _get_row(conn, principal.trust_id, client_id)
    if row is None:
        raise NotFound("No such client.")
    if row.revoked_at is None:
        c = m.api_client
        await conn.execute(
            c.update()
            .where((c.c.trust_id == principal.trust_id) & (c.c.client_id == client_id))
            .values(revoked_at=now, revoked_by=principal.subject)
        )
        await record_revocation(conn, m.revoked_client, principal.trust_id, client_id, now)
        await record_event(
            conn,
            m.outbox,
            type=CLIENT_REVOKED,
            trust_id=principal.trust_id,
            subject_id=client_id,
            subject_revision=1,
            occurred_at=now,
            payload=ClientRevokedV1(
                client_id=client_id, role=row.role, revoked_at=now, revoked_by=principal.subject
            ),
        )
        log.info("client revoked", extra={"trust_id": principal.trust_id, "client_id": client_id})
        row = await _get_row(conn, principal.trust_id, client_id)
        assert row is not None
    return await _to_client(conn, row, now)


async def authenticate(
    conn: AsyncConnection, client_id: str, secret: str, now: datetime
) -> sa.Row | None:
    """The client whose live secret matches, unless revoked; None otherwise."""
    trust_id = trust_of(client_id)
    row = await _get_row(conn, trust_id, client_id) if trust_id else None
    hashes: list[str] = []
    if row is not None and row.revoked_at is None:
        s = m.api_client_secret
        hashes = list(
            (
                await conn.execute(
                    sa.select(s.c.secret_hash).where(
                        (s.c.trust_id == row.trust_id) & (s.c.client_id == client_id) & _live(now)
                    )
                )
            ).scalars()
        )
    matched = False
    for stored in hashes or [_DUMMY_HASH]:
        matched = verify_secret(secret, stored) or matched
    return row if matched and hashes else None
