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


# Positions of the pupil during a hold (DOMAIN §5); ground positions are time-limited.
POSITIONS = ("standing", "seated", "kneeling", "ground_supine", "ground_prone")
GROUND_POSITIONS = frozenset({"ground_supine", "ground_prone"})

# Canonical techniques and holds: code -> (meaning, restricts breathing or circulation?)
TECHNIQUES: dict[str, tuple[str, bool]] = {
    "guide": ("Guiding or escorting with an open hand", False),
    "single_elbow": ("One adult holding at the elbow", False),
    "double_elbow": ("Two adults each holding at an elbow", False),
    "figure_of_four": ("Arm held in a figure-of-four", False),
    "wrap": ("Standing wrap from behind", False),
    "seated_wrap": ("Seated wrap from behind", False),
    "supine_hold": ("Held face up on the ground", False),
    "prone_hold": ("Held face down on the ground", False),
    "basket_hold": ("Arms crossed across the chest and held", True),
    "neck_pressure": ("Any pressure to the neck", True),
    "abdominal_pressure": ("Any pressure to the abdomen", True),
    "pain_compliance": ("Pain used to gain compliance", False),
    "locked_room": ("Kept in a room the pupil may not leave", False),
    "device": ("A mechanical device restricting movement", False),
}
# Techniques the trust prohibits whatever a provider teaches (DOMAIN §4); trusts add more.
ALWAYS_PROHIBITED_TECHNIQUES = frozenset({"basket_hold", "neck_pressure", "abdominal_pressure"})
DEFAULT_PROHIBITED_TECHNIQUES = ("prone_hold", "pain_compliance")

# Purposes for which force may lawfully be used; the last two are prohibited.
PURPOSES = (
    "prevent_injury",
    "prevent_offence",
    "prevent_damage",
    "prevent_disorder",
    "punishment",
    "compliance",
)
PROHIBITED_PURPOSES = frozenset({"punishment", "compliance"})

STRATEGIES: dict[str, str] = {
    "verbal_reassurance": "Calm talk, reassurance",
    "distraction": "Distraction or diversion",
    "choices": "Offering choices",
    "calm_space": "Offering a calm space",
    "change_of_adult": "A change of adult",
    "removing_audience": "Moving other pupils away",
    "planned_ignoring": "Planned ignoring",
    "humour": "Humour",
}

# Training providers' hold names mapped trust-wide onto canonical techniques.
DEFAULT_TECHNIQUE_LABELS: dict[str, str] = {
    "team teach single elbow": "single_elbow",
    "team teach double elbow": "double_elbow",
    "team teach figure of four": "figure_of_four",
    "mapa children's control position": "wrap",
    "team teach seated wrap": "seated_wrap",
    "escort": "guide",
    "caring c": "guide",
    "quiet room": "locked_room",
}
DEFAULT_STRATEGY_LABELS: dict[str, str] = {
    "reassurance": "verbal_reassurance",
    "calm area": "calm_space",
    "offered the calm area": "calm_space",
    "time to calm": "calm_space",
}
