"""Disclosure control: small counts suppressed, with secondary suppression.

For audiences that see aggregates only, a count from 1 to the threshold is withheld
(``null`` with ``suppressed: true``). Where a group of counts adds up to a published
total, withholding one cell alone would let it be recovered by subtraction, and
withholding cells whose sum is itself small would reveal them too; so further cells
(smallest first) are withheld until what is hidden sums to more than the threshold, or
the total itself is withheld.
"""

from __future__ import annotations

from pydantic import BaseModel


class Count(BaseModel):
    """A count, or null when disclosure control withholds it."""

    count: int | None
    suppressed: bool = False


def is_small(value: int, threshold: int) -> bool:
    """Whether a count falls in the suppressed band (zero is shown: it is a signal)."""
    return 1 <= value <= threshold


def suppress_group(
    values: list[int],
    total: int | None,
    threshold: int | None,
    hidden: set[int] | None = None,
) -> tuple[list[Count], Count | None]:
    """Suppress small cells of a group whose cells add up to ``total`` (and the cells in
    ``hidden``, withheld for another reason).

    Returns the cells and the total as Counts. ``threshold`` None publishes everything.
    """
    if threshold is None:
        return [Count(count=v) for v in values], (Count(count=total) if total is not None else None)
    hidden = {i for i, v in enumerate(values) if is_small(v, threshold)} | (hidden or set())
    total_hidden = total is not None and is_small(total, threshold)
    if total is not None and not total_hidden and hidden:
        # Hide more cells, smallest first, until the hidden sum cannot be resolved.
        order = sorted(
            (i for i in range(len(values)) if i not in hidden and values[i] > 0),
            key=lambda i: values[i],
        )
        while sum(values[i] for i in hidden) <= threshold or len(hidden) == 1:
            if not order:
                total_hidden = True
                break
            hidden.add(order.pop(0))
    cells = [
        Count(count=None, suppressed=True) if i in hidden else Count(count=v)
        for i, v in enumerate(values)
    ]
    total_cell = None
    if total is not None:
        total_cell = Count(count=None, suppressed=True) if total_hidden else Count(count=total)
    return cells, total_cell


def suppress_parts(
    cells: list[Count], values: list[int], total: Count, threshold: int | None
) -> tuple[list[Count], Count]:
    """Cells already suppressed (by column) that are parts of a shown row total, with an
    unshown remainder (``total`` less their sum, e.g. reports still pending): more parts
    are withheld, smallest first, until what is withheld (with the remainder) sums to
    more than the threshold over at least two cells; else the total too."""
    if threshold is None or total.suppressed or not any(c.suppressed for c in cells):
        return cells, total
    assert total.count is not None
    hidden = {i for i, c in enumerate(cells) if c.suppressed}
    rest = max(0, total.count - sum(values))

    def enough() -> bool:
        withheld = sum(values[i] for i in hidden) + rest
        return withheld > threshold and len(hidden) + (1 if rest else 0) >= 2

    order = sorted(
        (i for i in range(len(cells)) if i not in hidden and values[i] > 0), key=lambda i: values[i]
    )
    while not enough():
        if not order:
            return cells, Count(count=None, suppressed=True)
        hidden.add(order.pop(0))
    return [
        Count(count=None, suppressed=True) if i in hidden else c for i, c in enumerate(cells)
    ], total


def suppress_one(value: int, threshold: int | None) -> Count:
    """A lone count."""
    if threshold is not None and is_small(value, threshold):
        return Count(count=None, suppressed=True)
    return Count(count=value)


class Stat(BaseModel):
    """A derived statistic (rate, share, median, ratio), or null when derived from a
    suppressed cell."""

    value: float | None
    suppressed: bool = False


HIDDEN = Stat(value=None, suppressed=True)


def stat(value: float | None, *sources: Count) -> Stat:
    """A statistic, withheld when any count it is derived from is withheld."""
    if any(c.suppressed for c in sources):
        return HIDDEN
    return Stat(value=value)


def suppress_column(values: list[int], threshold: int | None) -> list[Count]:
    """A column of cells whose sum may be known elsewhere: suppressed as a group."""
    cells, _ = suppress_group(values, sum(values), threshold)
    return cells


def share_of(part: int, whole: int, threshold: int | None) -> Stat:
    """part / whole, withheld when the part or the rest (whole - part) is small: either
    would reveal a small count alongside the whole."""
    if whole <= 0:
        return Stat(value=None)
    if threshold is not None and (
        is_small(part, threshold) or is_small(whole - part, threshold) or is_small(whole, threshold)
    ):
        return HIDDEN
    return Stat(value=round(part / whole, 4))


def small(value: int, threshold: int | None) -> bool:
    """Whether a count would be withheld for this audience."""
    return threshold is not None and is_small(value, threshold)
