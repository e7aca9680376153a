"""The generated demo trust: a deterministic plan of schools, rolls, pupils and incidents.

Pure data (no I/O); ``services.demo_seed`` writes it through the services' own code.
A realistic trust (DOMAIN §8): incidents concentrate in special and AP settings and
among a few pupils, with planted patterns a governor should see:

- **under-reporting**: the second secondary school records about one incident in eight
  of its peers' rate, and nearly every one it records injured staff;
- **seclusion-heavy**: the third secondary school uses seclusion in 70% of incidents
  (its peers 10%);
- **SEND over-representation**: pupils with an EHC plan or SEN support are far more
  often restrained or secluded than pupils without (no other characteristic is: the
  other characteristics of affected pupils follow the roll, so only SEN stands out);
- **late parent reports**: the first secondary school misses the same-day standard for
  45% of parent reports (others about 3%);
- **rising staff injuries**: the first special school's staff injuries per incident rise
  from 5% to 8% to 40% over the years.

Counts are spread evenly over school days at each school's rate, so any period is close
to its expectation and no school but the planted ones falls outside the 99.8% limits.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

SETTINGS_CYCLE = (
    "secondary",
    "primary",
    "primary",
    "special",
    "secondary",
    "primary",
    "alternative_provision",
    "secondary",
    "primary",
    "special",
    "secondary",
    "primary",
)
ESTABLISHMENT = {
    "primary": ("Academy converter", "Primary", (210, 420), 4.0, 25),
    "secondary": ("Academy sponsor led", "Secondary", (1100, 1500), 6.0, 80),
    "special": ("Academy special converter", "All-through", (110, 170), 120.0, 60),
    "alternative_provision": (
        "Academy alternative provision converter",
        "Secondary",
        (50, 80),
        150.0,
        20,
    ),
}
PRIMARY_YEARS = {y: 1.0 for y in ("R", "1", "2", "3", "4", "5", "6")}
SECONDARY_YEARS = {y: 1.0 for y in ("7", "8", "9", "10", "11")}
# Special and AP settings take pupils of every age in proportion to the trust's
# mainstream years (about 4.6 secondary pupils per primary pupil in each year group), so
# a year group is not over-represented only because high-rate settings teach it.
ALL_YEARS = {**PRIMARY_YEARS, **{y: 4.6 for y in SECONDARY_YEARS}}
YEAR_GROUPS = {
    "primary": PRIMARY_YEARS,
    "secondary": SECONDARY_YEARS,
    "special": ALL_YEARS,
    "alternative_provision": ALL_YEARS,
}
ETHNICITY = {
    "WBRI": 62,
    "WOTH": 6,
    "ABAN": 4,
    "APKN": 5,
    "AIND": 3,
    "BAFR": 5,
    "BCRB": 2,
    "MWBC": 3,
    "MOTH": 3,
    "CHNE": 1,
    "OOTH": 2,
    "NOBT": 4,
}
NAMES = [
    "Oak",
    "Ash",
    "Elm",
    "Birch",
    "Willow",
    "Hazel",
    "Rowan",
    "Cedar",
    "Maple",
    "Holly",
    "Alder",
    "Beech",
    "Larch",
    "Pine",
    "Yew",
    "Poplar",
]
KINDS = ("physical_restraint", "seclusion", "reasonable_force", "mechanical_restraint")


@dataclass
class School:
    urn: str
    name: str
    setting: str
    establishment_type: str
    phase: str
    roll: int
    rate: float  # incidents per 100 on roll per year
    staff: int
    seclusion_share: float = 0.12
    injury_share: dict[int, float] = field(default_factory=dict)  # by years before current
    staff_injuries_each: int = 1
    missed_share: float = 0.03
    planted: str | None = None


@dataclass
class Incident:
    school: School
    pupil_ref: str
    day: date
    minute: int  # minutes after 09:00 local
    kind: str
    staff_injuries: int
    pupil_injured: bool
    ground: bool
    staff: tuple[int, ...]
    report_minutes: int
    missed: bool


@dataclass
class Pupil:
    school: School
    ref: str
    sen: str
    year_group: str
    gender: str
    fsm: bool
    ever6: bool
    ethnicity: str


def spread(
    total: int,
    weights: Mapping[str, float],
    rng: random.Random | None = None,
    carry: dict[str, float] | None = None,
) -> dict[str, int]:
    """``total`` split in proportion to ``weights`` (largest remainder: exact sums).

    With ``carry``, what each group was under- or over-given is carried to the next split
    (error diffusion), so totals over many small splits stay proportional too; ties are
    broken at random when ``rng`` is given.
    """
    s = sum(weights.values())
    carry = carry if carry is not None else {}
    raw = {k: total * w / s + (carry.get(k, 0.0) if w else 0.0) for k, w in weights.items()}
    out = {k: max(0, math.floor(v)) for k, v in raw.items()}
    tie = {k: rng.random() if rng else 0.0 for k in raw}
    live = [k for k in raw if weights[k]]
    while sum(out.values()) < total:  # give to the most under-given
        k = max(live, key=lambda k: (raw[k] - out[k], tie[k]))
        out[k] += 1
    while sum(out.values()) > total:  # take from the most over-given
        k = min((k for k in live if out[k] > 0), key=lambda k: (raw[k] - out[k], tie[k]))
        out[k] -= 1
    for k in raw:
        if weights[k]:
            carry[k] = raw[k] - out[k]
    return out


def schools(n: int, rng: random.Random) -> list[School]:
    """``n`` schools with the planted patterns assigned by setting."""
    out: list[School] = []
    for i in range(n):
        setting = SETTINGS_CYCLE[i % len(SETTINGS_CYCLE)]
        etype, phase, (lo, hi), rate, staff = ESTABLISHMENT[setting]
        word = {
            "primary": "Primary Academy",
            "secondary": "Academy",
            "special": "School",
            "alternative_provision": "Learning Centre",
        }[setting]
        out.append(
            School(
                urn=f"{140001 + i}",
                name=f"{NAMES[i % len(NAMES)]} {word}",
                setting=setting,
                establishment_type=etype,
                phase=phase,
                roll=rng.randint(lo, hi),
                rate=rate,
                staff=staff,
                injury_share={0: 0.06, 1: 0.06, 2: 0.06, 3: 0.06},
            )
        )
    by = {s: [x for x in out if x.setting == s] for s in ESTABLISHMENT}
    if len(by["secondary"]) >= 2:
        under = by["secondary"][1]
        under.rate, under.staff_injuries_each, under.planted = 6.0 / 8, 2, "under_reporting"
        under.injury_share = dict.fromkeys(range(4), 1.0)
    if len(by["secondary"]) >= 3:
        by["secondary"][2].seclusion_share, by["secondary"][2].planted = 0.7, "seclusion_heavy"
    if by["secondary"]:
        by["secondary"][0].missed_share, by["secondary"][0].planted = 0.45, "late_parent_reports"
    if by["special"]:
        rising = by["special"][0]
        rising.injury_share = {3: 0.05, 2: 0.05, 1: 0.08, 0: 0.40}
        rising.planted = "rising_staff_injuries"
    return out


def school_days(year: int) -> list[date]:
    """Weekdays of an academic year, without the Christmas, Easter and summer holidays."""
    d, out = date(year, 9, 1), []
    while d <= date(year + 1, 7, 20):
        holiday = (
            (d.month == 12 and d.day >= 20)
            or (d.month == 1 and d.day <= 3)
            or (d.month == 4 and d.day <= 14)
        )
        if d.weekday() < 5 and not holiday:
            out.append(d)
        d += timedelta(days=1)
    return out


def roll_cells(s: School) -> dict[str, dict[str, int]]:
    """The school's roll by characteristic (the same every year)."""
    sen_mix = (
        {"E": 92, "K": 8, "N": 0}
        if s.setting == "special"
        else (
            {"E": 12, "K": 45, "N": 43}
            if s.setting == "alternative_provision"
            else {"E": 3, "K": 13, "N": 84}
        )
    )
    return {
        "all": {"all": s.roll},
        "sen": spread(s.roll, sen_mix),
        "fsm": spread(s.roll, {"yes": 24, "no": 76}),
        "fsm_ever6": spread(s.roll, {"yes": 31, "no": 69}),
        "gender": spread(s.roll, {"F": 49, "M": 51}),
        "ethnicity": spread(s.roll, ETHNICITY),
        "year_group": spread(s.roll, YEAR_GROUPS[s.setting]),
    }


def pupils_for(
    s: School, year: int, count: int, rng: random.Random, carry: dict[str, dict[str, float]]
) -> list[Pupil]:
    """Affected pupils of one school-year: SEN over-represented, all else as the roll
    (``carry`` holds the trust-wide rounding so far, per characteristic)."""
    cells = roll_cells(s)
    sen_weights = {k: v * {"E": 12, "K": 4, "N": 1}[k] for k, v in cells["sen"].items()}
    quota = {
        dim: spread(count, cells[dim], rng, carry.setdefault(dim, {}))
        for dim in ("fsm", "fsm_ever6", "gender", "ethnicity", "year_group")
    }
    quota["sen"] = spread(count, sen_weights, rng, carry.setdefault("sen", {}))
    lists = {dim: [g for g, n in q.items() for _ in range(n)] for dim, q in quota.items()}
    for values in lists.values():
        rng.shuffle(values)
    return [
        Pupil(
            s,
            f"Y{year}-{s.urn}-{i:04d}",
            lists["sen"][i],
            lists["year_group"][i],
            lists["gender"][i],
            lists["fsm"][i] == "yes",
            lists["fsm_ever6"][i] == "yes",
            lists["ethnicity"][i],
        )
        for i in range(count)
    ]


def _every(i: int, share: float) -> bool:
    """Deterministically, ``share`` of consecutive items (evenly spread)."""
    return math.floor((i + 1) * share) > math.floor(i * share)


def plan_year(
    s: School,
    year: int,
    ago: int,
    today: date,
    rng: random.Random,
    carry: dict[str, dict[str, float]] | None = None,
) -> tuple[list[Pupil], list[Incident]]:
    """One school's affected pupils and incidents in one academic year (up to yesterday);
    pass the same ``carry`` for every school of a year to keep trust totals proportional."""
    every_day = school_days(year)
    days = [d for d in every_day if d < today]
    total = round(s.rate * s.roll / 100 * len(days) / len(every_day))
    # Incidents per affected pupil: pupils affected per 100 are alike in primary and
    # secondary (2.5), and a few pupils in special and AP settings account for many.
    repeats = {"primary": 1.6, "secondary": 2.4}.get(s.setting, 4.0)
    n_pupils = min(total, max(1, round(total / repeats))) if total else 0
    pupils = (
        pupils_for(s, year, n_pupils, rng, carry if carry is not None else {}) if n_pupils else []
    )
    weights = [1 / (k + 1) ** 0.9 for k in range(len(pupils))]  # a long tail of repeats
    # Every affected pupil has at least one incident; the rest follow the long tail.
    order = (
        [p.ref for p in pupils]
        + [p.ref for p in rng.choices(pupils, weights, k=max(0, total - n_pupils))]
        if pupils
        else []
    )
    rng.shuffle(order)
    incidents = []
    for i in range(total):
        day = days[min(len(days) - 1, int((i + 0.5) * len(days) / total))]
        seclusion = _every(i, s.seclusion_share)
        kind = "seclusion" if seclusion else KINDS[(0, 0, 2, 0, 2, 0, 0, 2, 0, 3)[i % 10]]
        missed = _every(i + 7, s.missed_share)
        incidents.append(
            Incident(
                school=s,
                pupil_ref=rng.choices(pupils, weights)[0].ref,
                day=day,
                minute=rng.randint(0, 360),
                kind=kind,
                staff_injuries=s.staff_injuries_each
                if _every(i, s.injury_share.get(ago, 0.06))
                else 0,
                pupil_injured=_every(i + 3, 0.05),
                ground=kind == "physical_restraint" and _every(i, 0.08),
                staff=tuple(sorted(rng.sample(range(max(2, int(s.staff * 0.6))), 2))),
                report_minutes=rng.randint(24 * 60, 30 * 60) if missed else rng.randint(20, 240),
                missed=missed,
            )
        )
    return pupils, incidents
