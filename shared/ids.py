"""Stable identifiers shared across services without any service reading another's tables."""

from __future__ import annotations

import uuid

CANDOUR_NAMESPACE = uuid.UUID("6f1c2a52-5a0e-4c39-9d2e-6b1c9a7d0e11")


def pupil_id(trust_id: str, school_urn: str, mis_ref: str) -> str:
    """The Candour id of a pupil known to a school's MIS by ``mis_ref``."""
    return str(uuid.uuid5(CANDOUR_NAMESPACE, f"pupil:{trust_id}:{school_urn}:{mis_ref}"))


def contact_id(trust_id: str, pupil: str, contact_ref: str) -> str:
    """The Candour id of one of a pupil's contacts."""
    return str(uuid.uuid5(CANDOUR_NAMESPACE, f"contact:{trust_id}:{pupil}:{contact_ref}"))
