"""How answers show schools' cells from the period's one pattern
(:mod:`services.reporting.linked`)."""

from __future__ import annotations

from services.reporting.disclosure import Count

KINDS = ("restraint", "seclusion", "other")


def school_cells(urns: list[str], counts: dict[str, int], hidden: frozenset[str]) -> list[Count]:
    """Schools' counts as every answer of the period shows them (a zero is shown)."""
    return [
        Count(count=None, suppressed=True)
        if u in hidden and counts.get(u, 0)
        else Count(count=counts.get(u, 0))
        for u in urns
    ]
