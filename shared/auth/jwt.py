"""Every JOSE operation of Candour, in one module: issuing and verifying JWTs.

Algorithms are pinned by configuration and passed explicitly to every decode; the key is
chosen by the algorithm's family, so a token cannot make a public key serve as an HMAC
secret (HS/RS confusion), and ``none`` is never accepted.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from jose import jwk, jwt
from jose.exceptions import JOSEError, JWTClaimsError

from shared.auth.principal import ROLES, TRUST_RE, URN_RE, Principal
from shared.config import Settings

REQUIRED_CLAIMS = ("iss", "aud", "sub", "exp", "iat", "jti", "trust", "role", "schools")


class TokenError(Exception):
    """Why a token was refused (safe to show the caller)."""


def issue_token(
    settings: Settings,
    *,
    role: str,
    trust_id: str,
    schools: list[str] | None = None,
    subject: str | None = None,
    ttl: timedelta = timedelta(hours=12),
    scope: str | None = None,
    client_id: str | None = None,
    now: datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A token signed with the configured HMAC secret (development, tests, client credentials)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if not TRUST_RE.match(trust_id):
        raise ValueError("trust must be TR and five digits")
    for urn in schools or []:
        if not URN_RE.match(urn):
            raise ValueError(f"school {urn!r} is not a six-digit URN")
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": subject or f"dev:{role}",
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
        "jti": str(uuid.uuid4()),
        "trust": trust_id,
        "schools": list(schools) if schools else "*",
        "role": role,
    }
    if scope:
        claims["scope"] = scope
    if client_id:
        claims["client_id"] = client_id
    if extra:
        claims.update(extra)
    return str(jwt.encode(claims, settings.jwt_secret, algorithm="HS256"))


_KTY = {"RS": "RSA", "PS": "RSA", "ES": "EC"}


def token_header(token: str) -> dict[str, Any]:
    """The token's unverified JOSE header (to choose keys), or {} when malformed."""
    try:
        header = jwt.get_unverified_header(token)
    except JOSEError:
        return {}
    return header if isinstance(header, dict) else {}


def _jwks_keys(algorithm: str, kid: Any, jwks: list[dict[str, Any]] | None) -> list[Any]:
    """The JWKS keys that may verify this token: right key type, use, algorithm and id."""
    keys = []
    for entry in jwks or []:
        if entry.get("kty") != _KTY[algorithm[:2]] or entry.get("use", "sig") != "sig":
            continue
        if entry.get("alg", algorithm) != algorithm:
            continue
        if kid is not None and entry.get("kid") is not None and entry.get("kid") != kid:
            continue
        try:
            keys.append(jwk.construct(entry, algorithm=algorithm))
        except JOSEError:
            continue
    return keys


def _keys_for(
    algorithm: str,
    settings: Settings,
    kid: Any = None,
    jwks: list[dict[str, Any]] | None = None,
) -> list[Any]:
    if algorithm.startswith("HS"):
        return [settings.jwt_secret]
    if algorithm[:2] in _KTY:
        keys = []
        for key in settings.jwt_public_keys:
            key = key.strip()
            try:
                if key.startswith("{"):
                    keys.append(jwk.construct(json.loads(key), algorithm=algorithm))
                else:
                    keys.append(jwk.construct(key, algorithm=algorithm))
            except (JOSEError, ValueError):
                continue  # a key of another family (an EC key for an RS token)
        return keys + _jwks_keys(algorithm, kid, jwks)
    return []


def verify_token(
    token: str,
    settings: Settings,
    now: datetime | None = None,
    *,
    jwks: list[dict[str, Any]] | None = None,
) -> Principal:
    """Verify signature, expiry, not-before, audience, issuer and claims; return the caller.

    Times are checked here against ``now`` (the service's clock), not by the library.
    ``jwks`` adds the keys of a fetched JWKS document to the configured public keys.
    """
    if len(token.encode()) > settings.jwt_max_token_bytes:
        raise TokenError("token too large")
    try:
        header = jwt.get_unverified_header(token)
    except JOSEError:
        raise TokenError("malformed token") from None
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in settings.jwt_algorithms:
        raise TokenError("token algorithm not accepted")
    keys = _keys_for(algorithm, settings, header.get("kid"), jwks)
    if not keys:
        raise TokenError("no key configured for the token's algorithm")
    claims: dict[str, Any] | None = None
    last: Exception | None = None
    for key in keys:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    # exp and iat are required by REQUIRED_CLAIMS and checked by _check_times;
                    # python-jose's require_* would switch its own clock checks back on.
                    "require_aud": True,
                    "require_iss": True,
                    "require_sub": True,
                    "require_jti": True,
                    "leeway": settings.jwt_leeway_seconds,
                },
            )
            break
        except JWTClaimsError as exc:
            raise TokenError(f"token claims rejected: {exc}") from None
        except JOSEError as exc:
            last = exc
    if claims is None:
        raise TokenError("token signature invalid") from last
    _check_times(claims, (now or datetime.now(UTC)).timestamp(), settings.jwt_leeway_seconds)
    return principal_from_claims(claims)


def _check_times(claims: dict[str, Any], now: float, leeway: int) -> None:
    def number(name: str) -> float | None:
        value = claims.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TokenError(f"token {name} claim invalid")
        return float(value)

    exp, nbf, iat = number("exp"), number("nbf"), number("iat")
    if exp is None or exp < now - leeway:
        raise TokenError("token expired")
    if nbf is not None and nbf > now + leeway:
        raise TokenError("token not yet valid")
    if iat is not None and iat > now + leeway:
        raise TokenError("token issued in the future")


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Check Candour's own claims and build the Principal."""
    missing = [c for c in REQUIRED_CLAIMS if c not in claims]
    if missing:
        raise TokenError(f"token lacks claims: {', '.join(missing)}")
    trust = claims["trust"]
    role = claims["role"]
    schools = claims["schools"]
    if not isinstance(trust, str) or not TRUST_RE.match(trust):
        raise TokenError("token trust claim invalid")
    if role not in ROLES:
        raise TokenError("token role claim invalid")
    if schools == "*" or schools == ["*"]:
        school_set: frozenset[str] | None = None
    elif isinstance(schools, list) and all(isinstance(s, str) and URN_RE.match(s) for s in schools):
        school_set = frozenset(schools)
    else:
        raise TokenError("token schools claim invalid")
    scope = claims.get("scope") or ""
    if not isinstance(scope, str):
        raise TokenError("token scope claim invalid")
    return Principal(
        subject=str(claims["sub"]),
        trust_id=trust,
        role=role,
        schools=school_set,
        scopes=frozenset(scope.split()),
        token_id=str(claims["jti"]),
        client_id=claims.get("client_id"),
    )


def notify_key_parts(api_key: str) -> tuple[str, str]:
    """The service id and secret of a GOV.UK Notify API key ``{name}-{service_id}-{secret}``.

    Both ids are UUIDs (36 characters); the key name before them may itself hold hyphens.
    """
    key = api_key.strip()
    if len(key) < 74 or key[-37] != "-" or key[-74] != "-":
        raise ValueError("not a GOV.UK Notify API key: expected {name}-{service_id}-{secret}")
    service_id, secret = key[-73:-37], key[-36:]
    for part in (service_id, secret):
        uuid.UUID(part)  # ValueError if either is not a UUID
    return service_id, secret


def notify_token(api_key: str, now: datetime) -> str:
    """A bearer token for GOV.UK Notify: HS256, ``iss`` = service id, ``iat`` = now (30 s)."""
    service_id, secret = notify_key_parts(api_key)
    claims = {"iss": service_id, "iat": int(now.timestamp())}
    return str(jwt.encode(claims, secret, algorithm="HS256", headers={"typ": "JWT"}))
