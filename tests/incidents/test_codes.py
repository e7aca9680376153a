"""DfE code checks: UPN check letters, URN, LAESTAB."""

from __future__ import annotations

import pytest

from services.incidents.codes import (
    is_temporary_upn,
    laestab_problem,
    upn_check_letter,
    upn_problem,
    urn_problem,
)


def with_check(rest: str) -> str:
    return upn_check_letter("?" + rest) + rest


@pytest.mark.parametrize(
    ("upn", "ok"),
    [
        ("B801200005001", True),  # DOMAIN §6
        ("A801200005001", False),  # wrong check letter
        ("b801200005001", True),  # lower case is the same UPN
        (" B801200005001 ", True),
        ("B80120000500", False),  # too short
        ("B8012000050011", False),  # too long
        ("I801200005001", False),  # I is never a check letter
        ("B80120000500X1", False),
        (with_check("80120000500A"), True),  # temporary UPN, letter last
        (with_check("80120000500A").lower(), True),
        ("B80120000500O", False),  # O is not in the table
    ],
)
def test_upn(upn: str, ok: bool) -> None:
    assert (upn_problem(upn) is None) is ok


def test_temporary_upn_letter_counts_in_the_check() -> None:
    a, b = with_check("80120000500A"), with_check("80120000500B")
    assert a[0] != b[0]  # A=0, B=1 at position 13 moves the check letter
    assert is_temporary_upn(a) and not is_temporary_upn("B801200005001")
    assert upn_problem(b[0] + a[1:]) is not None


@pytest.mark.parametrize(
    ("urn", "ok"),
    [("100001", True), ("147001", True), ("200001", False), ("10001", False), ("10000a", False)],
)
def test_urn(urn: str, ok: bool) -> None:
    assert (urn_problem(urn) is None) is ok


@pytest.mark.parametrize(
    ("laestab", "ok"),
    [
        ("2012001", True),
        ("9380001", True),
        ("1012001", False),
        ("201200", False),
        ("201200x", False),
    ],
)
def test_laestab(laestab: str, ok: bool) -> None:
    assert (laestab_problem(laestab) is None) is ok
