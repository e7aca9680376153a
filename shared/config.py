"""Settings shared by every Candour process, read from the environment (prefix ``CANDOUR_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "candour-dev-secret-change-me"
DEV_LINK_SECRET = "candour-dev-link-secret-change-me"

ServiceName = Literal["incidents", "notifications", "reporting"]
SERVICES: tuple[ServiceName, ...] = ("incidents", "notifications", "reporting")


class Settings(BaseSettings):
    """Every setting of every service; documented in the README."""

    model_config = SettingsConfigDict(env_prefix="CANDOUR_", extra="ignore")

    env: Literal["dev", "test", "production"] = "dev"
    var_dir: Path = Path("var")

    incidents_database_url: str = ""
    notifications_database_url: str = ""
    reporting_database_url: str = ""
    redis_url: str = ""

    jwt_secret: str = DEV_JWT_SECRET
    jwt_issuer: str = "candour-dev"
    jwt_audience: str = "candour"
    jwt_algorithms: list[str] = Field(default_factory=lambda: ["HS256"])
    jwt_public_keys: list[str] = Field(default_factory=list)
    jwt_leeway_seconds: int = 30
    jwt_max_token_bytes: int = 8192
    link_secret: str = DEV_LINK_SECRET
    # A JWKS document (a trust's identity provider) whose keys verify RS/ES/PS tokens.
    jwt_jwks_url: str = ""
    jwt_jwks_cache_seconds: int = 300

    # Machine clients (client credentials, held by incidents).
    client_token_ttl_seconds: int = Field(default=600, ge=30, le=600)
    client_secret_overlap_seconds: int = Field(default=86400, ge=0)
    # How long a service may trust its cached "not revoked" answer for a client.
    revocation_cache_seconds: float = Field(default=2.0, ge=0, le=10)

    # Requests per client per window; 0 switches the limit off. "auto" counts in Redis
    # when CANDOUR_REDIS_URL is set (every worker together), else in process.
    rate_limit_per_minute: int = Field(default=600, ge=0)
    rate_limit_window_seconds: int = Field(default=60, ge=1)
    rate_limit_backend: Literal["auto", "memory", "redis"] = "auto"
    # Browser origins allowed by CORS; empty means CORS stays closed.
    cors_origins: list[str] = Field(default_factory=list)

    # Parent-report providers (notifications): the development files unless configured.
    mail_from: str = "no-reply@candour.local"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    notify_api_key: str = ""
    notify_base_url: str = "https://api.notifications.service.gov.uk"
    notify_email_template_id: str = ""
    notify_sms_template_id: str = ""
    notify_callback_token: str = ""
    sweep_interval_seconds: float = 60.0
    notifications_public_url: str = "http://127.0.0.1:8002"  # base of read-confirmation links
    read_link_days: int = 30

    incidents_port: int = 8001
    notifications_port: int = 8002
    reporting_port: int = 8003
    host: str = "127.0.0.1"
    workers: int = 2

    relay_interval_seconds: float = 0.25
    relay_batch_size: int = 200
    max_body_bytes: int = 1024 * 1024
    log_level: str = "INFO"
    demo_seed: bool = True

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.env != "dev":
            if self.jwt_secret == DEV_JWT_SECRET and "HS256" in self.jwt_algorithms:
                raise ValueError(
                    "CANDOUR_JWT_SECRET is the development default; set a secret outside dev"
                )
            if self.link_secret == DEV_LINK_SECRET:
                raise ValueError(
                    "CANDOUR_LINK_SECRET is the development default; set a secret outside dev"
                )
        for algorithm in self.jwt_algorithms:
            if algorithm.lower() == "none":
                raise ValueError("CANDOUR_JWT_ALGORITHMS may not include 'none'")
        return self

    def database_url(self, service: ServiceName) -> str:
        """The service's own database; SQLite under ``var_dir`` when unset."""
        url: str = getattr(self, f"{service}_database_url")
        if url:
            return url
        return f"sqlite+aiosqlite:///{self.var_dir / (service + '.db')}"

    def port(self, service: ServiceName) -> int:
        """The port a service listens on."""
        port: int = getattr(self, f"{service}_port")
        return port

    @property
    def outbox_dir(self) -> Path:
        """Where the development provider writes messages."""
        return self.var_dir / "outbox"


@lru_cache
def get_settings() -> Settings:
    """The process settings, read once."""
    return Settings()
