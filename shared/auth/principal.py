"""Who is calling: trust, schools, role."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Role = Literal[
    "recorder",
    "school_lead",
    "dsl",
    "trust_lead",
    "governor",
    "mis_client",
    "portal_client",
    "service",
]
ROLES: tuple[str, ...] = (
    "recorder",
    "school_lead",
    "dsl",
    "trust_lead",
    "governor",
    "mis_client",
    "portal_client",
    "service",
)
# Roles that may write or read incident records (pupil-level).
RECORDING_ROLES = frozenset({"recorder", "school_lead", "dsl", "trust_lead", "mis_client"})
# Roles that may read pupil-identifiable data at all.
PUPIL_LEVEL_ROLES = frozenset(
    {"recorder", "school_lead", "dsl", "trust_lead", "mis_client", "service"}
)
# Roles that see aggregates only, with small numbers suppressed.
AGGREGATE_ONLY_ROLES = frozenset({"governor", "portal_client"})

TRUST_RE = re.compile(r"^TR\d{5}$")
URN_RE = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class Principal:
    """The verified caller."""

    subject: str
    trust_id: str
    role: str
    schools: frozenset[str] | None  # None means every school of the trust ('*')
    scopes: frozenset[str] = field(default_factory=frozenset)
    token_id: str | None = None
    client_id: str | None = None

    @property
    def all_schools(self) -> bool:
        """Whether the caller may act for every school of its trust."""
        return self.schools is None

    def may_see_school(self, urn: str) -> bool:
        """Whether ``urn`` is within the caller's school scope."""
        return self.schools is None or urn in self.schools

    def may_see_trust(self, trust_id: str) -> bool:
        """Whether ``trust_id`` is the caller's own trust."""
        return trust_id == self.trust_id

    @property
    def pupil_level(self) -> bool:
        """Whether this caller may receive pupil-identifiable data."""
        if self.role == "portal_client":
            return "pupil:read" in self.scopes
        return self.role in PUPIL_LEVEL_ROLES
