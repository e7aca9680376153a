"""How answers show schools' cells from the period's one pattern
(:mod:`services.reporting.linked`)."""

from __future__ import annotations

from services.reporting.disclosure import Count

KINDS = ("restraint", "seclusion", "other")


def school_cells(urns: list[str], counts: dict[str, int], hidden: frozenset[str]) -> list[Count]:
    """Schools' counts as every answer of the period shows them (a zero too, unless the
    pattern withholds it beside counts a shown total would give away)."""
    return [
        Count(count=None, suppressed=True) if u in hidden else Count(count=counts.get(u, 0))
        for u in urns
    ]
