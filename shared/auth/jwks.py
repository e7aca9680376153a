"""The signing keys a trust's identity provider publishes as a JWKS document.

Fetched with httpx and cached for ``CANDOUR_JWT_JWKS_CACHE_SECONDS``; a token naming a
key id the cache lacks triggers one early refetch (the provider rotated its keys), at
most once every few seconds so a flood of bad tokens cannot hammer the provider.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx

log = logging.getLogger("candour.auth.jwks")
MIN_REFETCH_SECONDS = 5.0


class JwksUnavailable(Exception):
    """The JWKS document could not be fetched and no keys are cached."""


class JwksCache:
    """The keys of one JWKS document, refreshed when stale or on an unknown key id."""

    def __init__(
        self,
        url: str,
        ttl_seconds: float = 300,
        timeout: float = 5.0,
        min_refetch_seconds: float = MIN_REFETCH_SECONDS,
    ) -> None:
        self.url = url
        self.min_refetch = min_refetch_seconds
        self.ttl = ttl_seconds
        self.timeout = timeout
        self._keys: list[dict[str, Any]] = []
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def _fetch(self) -> None:
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            response = await client.get(self.url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise ValueError("JWKS document has no keys list")
        self._keys = [k for k in keys if isinstance(k, dict)]
        self._fetched_at = time.monotonic()

    async def keys(self, kid: str | None = None) -> list[dict[str, Any]]:
        """The cached keys, refetched when stale or when ``kid`` is unknown."""
        now = time.monotonic()
        stale = self._fetched_at is None or now - self._fetched_at >= self.ttl
        unknown = kid is not None and all(k.get("kid") != kid for k in self._keys)
        may_refetch = self._fetched_at is None or now - self._fetched_at >= self.min_refetch
        if stale or (unknown and may_refetch):
            async with self._lock:
                try:
                    await self._fetch()
                except (httpx.HTTPError, ValueError) as exc:
                    log.warning("JWKS fetch failed", extra={"error": type(exc).__name__})
                    if self._fetched_at is None:
                        raise JwksUnavailable("signing keys unavailable") from None
                    # Keep the old keys, and try the provider again a little later.
                    self._fetched_at = now - self.ttl + self.min_refetch
        return list(self._keys)
