"""API models of machine clients and the OAuth2 token endpoint (never tables)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from shared.schemas import Timestamp

CLIENT_ID_PATTERN = r"^TR\d{5}-[0-9a-f]{16}$"
SchoolOrAll = Annotated[str, Field(pattern=r"^(\d{6}|\*)$")]
Scope = Annotated[str, Field(pattern=r"^[a-z][a-z_]{0,30}:[a-z][a-z_]{0,30}$")]

EXAMPLE_CLIENT: dict[str, Any] = {
    "name": "Demo MIS (Oak Hill and Riverside)",
    "role": "mis_client",
    "schools": ["100001", "100002"],
    "scopes": ["incidents:write", "registry:write"],
}


class ClientCreate(BaseModel):
    """A machine client a trust lead registers: an MIS vendor or the trust's portal."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [EXAMPLE_CLIENT]}
    )

    name: str = Field(min_length=1, max_length=200, description="Who the client is")
    role: Literal["mis_client", "portal_client"]
    schools: list[SchoolOrAll] = Field(
        min_length=1, max_length=500, description='URNs the client acts for, or ["*"] for all'
    )
    scopes: list[Scope] = Field(default_factory=list, max_length=20)

    @field_validator("schools")
    @classmethod
    def _all_alone(cls, value: list[str]) -> list[str]:
        if "*" in value and len(value) > 1:
            raise ValueError('"*" stands alone: every school of the trust')
        return sorted(set(value))

    @field_validator("scopes")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class Client(BaseModel):
    """A registered machine client (its secrets are never shown again)."""

    client_id: str = Field(description="The trust reference, a dash, and 16 hex digits")
    trust_id: str
    name: str
    role: str
    schools: list[str]
    scopes: list[str]
    created_at: Timestamp
    revoked_at: Timestamp | None = None
    secrets_valid: StrictInt = Field(description="Secrets that can obtain a token now (overlap: 2)")


class ClientWithSecret(Client):
    """A client just registered or rotated: the only time its secret is shown."""

    client_secret: str = Field(description="Shown once; store it in the client's vault")
    previous_secret_expires_at: Timestamp | None = Field(
        default=None, description="After rotation: when the old secret stops working"
    )


class SecretRotate(BaseModel):
    """How long the old secret keeps working after rotation."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})

    overlap_seconds: StrictInt | None = Field(
        default=None,
        ge=0,
        le=30 * 86400,
        description="Default CANDOUR_CLIENT_SECRET_OVERLAP_SECONDS; 0 ends it at once",
    )


class TokenResponse(BaseModel):
    """An access token (RFC 6749 §5.1)."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: StrictInt = Field(le=600)
    scope: str


class OAuthError(BaseModel):
    """An error from the token endpoint (RFC 6749 §5.2)."""

    error: Literal[
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
    ]
    error_description: str | None = None
