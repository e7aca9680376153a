"""Building hostile and foreign tokens for the attack suite (reusable by later tests)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwk, jwt

from shared.config import Settings


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def claims(settings: Settings, now: datetime, **overrides: Any) -> dict[str, Any]:
    """Valid Candour claims for the demo trust's trust lead; ``None`` removes a claim."""
    out: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": "attack:test",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "jti": str(uuid.uuid4()),
        "trust": "TR00001",
        "schools": "*",
        "role": "trust_lead",
    }
    for key, value in overrides.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def unsigned(body: dict[str, Any], alg: str = "none") -> str:
    """A token with ``alg: none`` (or any header) and an empty signature."""
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    return f"{header}.{b64url(json.dumps(body).encode())}."


def hmac_signed(body: dict[str, Any], key: bytes, alg: str = "HS256") -> str:
    """An HMAC token signed with raw ``key`` bytes (e.g. a public key PEM: HS/RS confusion)."""
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(body).encode())
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    sig = hmac.new(key, f"{header}.{payload}".encode(), digest).digest()
    return f"{header}.{payload}.{b64url(sig)}"


@dataclass(frozen=True)
class KeyPair:
    """An asymmetric signing key and its public forms."""

    alg: str
    private_pem: str
    public_pem: str
    kid: str

    @property
    def public_jwk(self) -> dict[str, Any]:
        data = jwk.construct(self.public_pem, algorithm=self.alg).to_dict()
        return {**data, "kid": self.kid, "use": "sig", "alg": self.alg}

    def sign(self, body: dict[str, Any], kid: bool = True) -> str:
        headers = {"kid": self.kid} if kid else None
        return str(jwt.encode(body, self.private_pem, algorithm=self.alg, headers=headers))


def keypair(alg: str = "RS256", kid: str | None = None) -> KeyPair:
    """A fresh RSA (RS*) or P-256 (ES256) key pair."""
    key: Any = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if alg.startswith("RS")
        else ec.generate_private_key(ec.SECP256R1())
    )
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(alg, private, public, kid or uuid.uuid4().hex[:8])
