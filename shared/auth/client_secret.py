"""Machine clients' secrets: generated once, stored only as a salted scrypt hash.

A stored hash reads ``scrypt$n$r$p$salt$hash`` (salt and hash base64url), so the cost can
rise later without invalidating secrets already issued.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_N, _R, _P, _LEN = 2**14, 8, 1, 32
SECRET_PREFIX = "cs_"


def new_secret() -> str:
    """A fresh client secret (shown to the trust lead once, never stored)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_secret(secret: str) -> str:
    """The scrypt hash of ``secret`` with a per-secret random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=_LEN)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, stored: str) -> bool:
    """Whether ``secret`` matches ``stored``, compared in constant time."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            secret.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=_LEN
        )
    except (ValueError, UnicodeEncodeError):
        return False
    return hmac.compare_digest(digest, _unb64(expected))
