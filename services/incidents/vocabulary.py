"""The trust vocabulary's canonical intervention types (DOMAIN §2), version 1."""

from __future__ import annotations

# code -> (meaning, significant incident?)
INTERVENTION_TYPES: dict[str, tuple[str, bool]] = {
    "physical_restraint": ("Restraint by holding: immobilising or limiting movement", True),
    "mechanical_restraint": ("Restraint by a device, or removing a mobility aid", True),
    "seclusion": ("Confined away from others and prevented from leaving", True),
    "reasonable_force": ("Force beyond supportive contact that is not restraint", True),
    "chemical_restraint": ("Medication used to control behaviour (prohibited)", True),
    "supportive_contact": ("Non-restrictive touch: guiding, comforting, first aid", False),
}
VOCABULARY_VERSION = 1

# Local words in common use, mapped trust-wide by default; schools add their own.
DEFAULT_LABELS: dict[str, str] = {
    "time out": "seclusion",
    "time-out room": "seclusion",
    "isolation room": "seclusion",
    "restraint": "physical_restraint",
    "physical intervention": "physical_restraint",
    "hold": "physical_restraint",
    "positive handling": "physical_restraint",
    "reasonable force": "reasonable_force",
    "mechanical restraint": "mechanical_restraint",
    "guiding": "supportive_contact",
}


def normalise_label(label: str) -> str:
    """Case and spacing do not make a new label."""
    return " ".join(label.strip().lower().split())


def is_significant(code: str) -> bool:
    """Whether an intervention type is a significant incident (triggers a parent report)."""
    return INTERVENTION_TYPES[code][1]
