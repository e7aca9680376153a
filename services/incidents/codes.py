"""DfE codes (DOMAIN §6) checked without I/O: URN, LAESTAB, UPN, census code lists."""

from __future__ import annotations

import re

CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 0..22: no I, O or S
URN_RE = re.compile(r"^1\d{5}$")
LAESTAB_RE = re.compile(r"^[2-9]\d{2}\d{4}$")
UPN_RE = re.compile(r"^[A-HJ-NP-RT-Z]\d{11}[0-9A-HJ-NP-RT-Z]$")

YEAR_GROUPS = ("N1", "N2", "R", *(str(n) for n in range(1, 15)), "X")
SEN_PROVISION = ("N", "K", "E")
ETHNICITY = (
    "WBRI", "WIRI", "WIRT", "WROM", "WOTH", "MWBC", "MWBA", "MWAS", "MOTH", "AIND",
    "APKN", "ABAN", "AOTH", "BCRB", "BAFR", "BOTH", "CHNE", "OOTH", "REFU", "NOBT",
)  # fmt: skip


def urn_problem(urn: str) -> str | None:
    """Why ``urn`` is not an English establishment's URN, or None."""
    return None if URN_RE.match(urn) else "a URN is six digits, starting with 1 in England"


def laestab_problem(laestab: str) -> str | None:
    """Why ``laestab`` is not a 3-digit LA number and a 4-digit establishment number."""
    if LAESTAB_RE.match(laestab):
        return None
    return "a LAESTAB is a 3-digit LA number (201-999) and a 4-digit establishment number"


def upn_check_letter(upn: str) -> str:
    """The check letter of a UPN's characters 2 to 13 (a temporary UPN's last letter counts)."""
    total = 0
    for position, char in enumerate(upn[1:13], start=2):
        value = int(char) if char.isdigit() else CHECK_LETTERS.index(char)
        total += value * position
    return CHECK_LETTERS[total % 23]


def normalise_upn(upn: str) -> str:
    """Case and surrounding spaces do not make a different UPN."""
    return upn.strip().upper()


def upn_problem(upn: str) -> str | None:
    """Why ``upn`` is not a valid (or valid temporary) UPN, or None."""
    value = normalise_upn(upn)
    if not UPN_RE.match(value):
        return "a UPN is a check letter, eleven digits, and a digit or (temporary) a letter"
    if upn_check_letter(value) != value[0]:
        return "the check letter does not match"
    return None


def is_temporary_upn(upn: str) -> bool:
    """A temporary UPN ends in a letter."""
    return normalise_upn(upn)[-1].isalpha()
