"""The linked-tables pattern: over many tries of schools, terms and kinds, every withheld
cell stays unknown to someone who holds every shown cell and every relation between them
(each published total and what adds up to it)."""

from __future__ import annotations

import random

from services.reporting.linked import ALL, build, settle
from tests.reporting.test_disclosure import determined

KINDS = ("restraint", "seclusion", "other")


def equations(table) -> list[tuple[dict[str, int], int]]:
    out = []
    for members, total in table.groups:
        coeffs: dict[str, int] = {}
        for m in members:
            coeffs["/".join(m)] = coeffs.get("/".join(m), 0) + 1
        coeffs["/".join(total)] = coeffs.get("/".join(total), 0) - 1
        out.append((coeffs, 0))
    return out


def trust(rng: random.Random, schools: int):
    types = ["primary", "secondary", "special"]
    type_of = {f"1000{i:02d}": types[min(2, rng.randrange(4))] for i in range(schools)}
    rows = {}
    for kind in sorted(set(type_of.values())):
        rows[f"*:{kind}"] = [u for u in sorted(type_of) if type_of[u] == kind]
    rows["*"] = [f"*:{kind}" for kind in sorted(set(type_of.values()))]
    return type_of, rows


def test_no_withheld_cell_is_determined_over_terms_types_and_kinds() -> None:
    rng = random.Random(7)
    for _ in range(60):
        type_of, rows = trust(rng, rng.randrange(2, 8))
        columns = ["0", "1", "2"]
        leaf = {}
        for u in type_of:
            big = rng.random() < 0.6
            for c in columns:
                for k in KINDS:
                    n = rng.choice([0, 0, 1, 2, 3, 5, 8, 13] if big else [0, 0, 0, 1, 2, 4, 6])
                    leaf[(u, c, k)] = n if k != "other" or rng.random() < 0.3 else 0
        table = build(leaf, sorted(type_of), rows, columns, KINDS, "Y", kinds=True)
        hidden = settle(table, 4)
        for cell, n in table.values.items():
            assert (1 <= n <= 4) <= (cell in hidden), cell
        for members, total in table.groups:
            inside = [table.values[m] for m in members if m in hidden]
            counted = [n for n in inside if n]
            if total not in hidden and counted:
                # Each withheld cell is at least 1 (or 0, with a zero withheld beside it):
                # together they leave each possibly over 4.
                least = len(counted) if len(counted) == len(inside) else 1
                assert len(inside) >= 2 and sum(inside) >= 4 + least, (members, total)
        known = {"/".join(c): n for c, n in table.values.items() if c not in hidden}
        withheld = {"/".join(c) for c in hidden}
        assert determined(equations(table), known) & withheld == set(), leaf


def test_fixed_totals_are_kept_and_weeks_settle_under_them() -> None:
    """A period's totals fixed as settled elsewhere: weeks under a shown total withhold two
    or more together; under a withheld total, at least one."""
    rng = random.Random(11)
    for _ in range(40):
        type_of, rows = trust(rng, rng.randrange(2, 6))
        weeks = [f"b{i}" for i in range(6)]
        leaf = {
            (u, w, k): rng.choice([0, 0, 1, 2, 3, 6, 9])
            for u in type_of
            for w in weeks
            for k in KINDS
        }
        period = build(leaf, sorted(type_of), rows, weeks, KINDS, "P", kinds=True)
        outer = settle(period, 4)
        fixed = {c: c in outer for c in period.values if c[1] == "P"}
        table = build(leaf, sorted(type_of), rows, weeks, KINDS, "P", kinds=True)
        hidden = settle(table, 4, fixed)
        assert {c for c in hidden if c[1] == "P"} == {c for c in outer if c[1] == "P"}
        known = {"/".join(c): n for c, n in table.values.items() if c not in hidden}
        withheld = {"/".join(c) for c in hidden}
        assert determined(equations(table), known) & withheld == set()
        assert any(c[2] == ALL for c in table.values)


def test_zeros_are_withheld_where_a_fixed_total_would_pin_the_cells() -> None:
    """Six year groups of one pupil each, under a total of 6 shown elsewhere: withheld, each
    would be known to be 1 (zeros being shown); the six zeros beside them are withheld
    too, so each could be anything from 0 to 6."""
    groups = [f"Y{i}" for i in range(1, 13)]
    leaf = {("100001", "0", g): (1 if i < 6 else 0) for i, g in enumerate(groups)}
    rows = {"*:primary": ["100001"], "*": ["*:primary"]}
    fixed = {(r, "0", ALL): False for r in ("100001", "*:primary", "*")}
    table = build(leaf, ["100001"], rows, ["0"], tuple(groups), None, kinds=True)
    hidden = settle(table, 4, fixed)
    assert {("100001", "0", g) for g in groups} <= hidden
    assert ("100001", "0", ALL) not in hidden
