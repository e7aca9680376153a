"""Linked tables: one withholding pattern for every count any answer publishes.

A period's counts are cells (row, column, what): rows are schools and the totals over them
that some answer publishes (each setting type, the trust, the caller's own schools);
columns are the intervals of a period and their total (the year and its terms, or a
period's weeks); ``what`` is a kind, or ``all`` (the incidents: the kinds' total), or a
measure. Every published total is a group: its members add up to it. A withheld cell must
not be given back by any group, so, until nothing changes, in every group:

- where the total is shown: nothing is withheld, or at least two cells whose sum leaves
  each of them possibly above the threshold (every withheld cell is at least 1, zeros being
  shown: k cells must sum to at least the threshold plus k) (else the smallest cell left is
  withheld too; with none left, the total);
- where the total is withheld: some cell is withheld too (else the cells give it back).

Where a total is fixed elsewhere and its cells cannot be protected otherwise, the zeros
beside them are withheld too (so no withheld cell there is known to be at least 1).
Cells from 1 to the threshold are withheld to begin with; cells already settled elsewhere
(a period's totals, when its weeks are settled) are fixed. Smaller cells, and schools'
before totals', are withheld first. Every answer then reads its cells from the one pattern,
so no two answers can be set against each other.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from services.reporting.disclosure import is_small

Cell = tuple[str, str, str]  # (row, column, what)
ALL = "all"


@dataclass
class Table:
    """Cells and the groups (members, total) that tie them."""

    values: dict[Cell, int] = field(default_factory=dict)
    groups: list[tuple[tuple[Cell, ...], Cell]] = field(default_factory=list)

    def group(self, members: list[Cell], total: Cell) -> None:
        self.groups.append((tuple(members), total))


def build(
    leaf: dict[Cell, int],
    schools: list[str],
    rows: dict[str, list[str]],
    columns: list[str],
    whats: tuple[str, ...],
    total: str | None = None,
    kinds: bool = False,
    runs: dict[str, list[str]] | None = None,
) -> Table:
    """The linked table of ``leaf`` counts (school, column, what).

    ``rows``: each published total over other rows (schools or totals, listed before it
    in ``rows`` when they are totals themselves), by name. ``total``: a column every
    row's ``columns`` add up to. ``kinds``: the ``whats`` add up to ``ALL``. ``runs``:
    further columns, each the total of some of ``columns``."""
    table = Table()
    values = table.values
    every = [*columns, *(list(runs or {})), *([total] if total else [])]
    dims = (*whats, ALL) if kinds else whats
    for u in schools:
        for c in columns:
            for w in whats:
                values[(u, c, w)] = leaf.get((u, c, w), 0)
    names = list(schools)
    for name, members in rows.items():
        for c in columns:
            for w in whats:
                values[(name, c, w)] = sum(values[(m, c, w)] for m in members)
        names.append(name)
    for r in names:
        for extra, members in [*((runs or {}).items()), *([(total, columns)] if total else [])]:
            for w in whats:
                values[(r, extra, w)] = sum(values[(r, c, w)] for c in members)
                table.group([(r, c, w) for c in members], (r, extra, w))
        if kinds:
            for c in every:
                values[(r, c, ALL)] = sum(values[(r, c, w)] for w in whats)
                table.group([(r, c, w) for w in whats], (r, c, ALL))
            for extra, members in [
                *((runs or {}).items()),
                *([(total, columns)] if total else []),
            ]:
                table.group([(r, c, ALL) for c in members], (r, extra, ALL))
    for name, members in rows.items():
        for c in every:
            for w in dims:
                table.group([(m, c, w) for m in members], (name, c, w))
    return table


# Patterns already settled, by everything they were settled from (so never stale): a
# trust's answers of one period and data settle the same tables again and again.
_SETTLED: OrderedDict[tuple[Any, ...], frozenset[Cell]] = OrderedDict()
CACHED = 64


def settled(
    leaf: dict[Cell, int],
    schools: list[str],
    rows: dict[str, list[str]],
    columns: list[str],
    whats: tuple[str, ...],
    threshold: int,
    total: str | None = None,
    kinds: bool = False,
    runs: dict[str, list[str]] | None = None,
    fixed: dict[Cell, bool] | None = None,
) -> frozenset[Cell]:
    """The withheld cells of the table :func:`build` would make (:func:`settle`),
    remembered for the last few tables by what they are made of."""
    key = (
        threshold,
        tuple(schools),
        tuple((k, tuple(v)) for k, v in rows.items()),
        tuple(columns),
        whats,
        total,
        kinds,
        tuple((k, tuple(v)) for k, v in (runs or {}).items()),
        tuple(sorted((c, n) for c, n in leaf.items() if n)),
        tuple(sorted((fixed or {}).items())),
    )
    got = _SETTLED.get(key)
    if got is None:
        table = build(leaf, schools, rows, columns, whats, total, kinds, runs)
        got = frozenset(settle(table, threshold, fixed))
        _SETTLED[key] = got
        while len(_SETTLED) > CACHED:
            _SETTLED.popitem(last=False)
    else:
        _SETTLED.move_to_end(key)
    return got


def settle(table: Table, threshold: int, fixed: dict[Cell, bool] | None = None) -> set[Cell]:
    """The cells withheld (see the module's rules); ``fixed`` cells keep the state given.
    The rules look at one group at a time; groups together may still fix a withheld cell
    (three totals around it, say), so the pattern is then solved as a whole
    (:func:`determined`) and, for each cell it would give back, the smallest shown cell
    beside it is withheld too, until none is given back."""
    fixed = fixed or {}
    values, groups = table.values, table.groups
    hidden = {c for c, v in values.items() if is_small(v, threshold)}
    for c, state in fixed.items():
        if state:
            hidden.add(c)
        else:
            hidden.discard(c)
    of_cell: dict[Cell, list[int]] = {}
    for i, (members, total) in enumerate(groups):
        for c in (*members, total):
            of_cell.setdefault(c, []).append(i)
    queue = deque(range(len(groups)))
    queued = [True] * len(groups)

    def hide(c: Cell) -> None:
        hidden.add(c)
        for g in of_cell.get(c, []):
            if not queued[g]:
                queued[g] = True
                queue.append(g)

    def order(c: Cell) -> tuple[int, bool, Cell]:
        return values[c], not c[0].isdigit(), c

    known: set[Cell] = set()  # given back by fixed cells whatever is withheld: shown
    zero_hidden: set[Cell] = set()  # zeros withheld beside cells a fixed total gives away

    def free(c: Cell) -> bool:
        return c not in hidden and values.get(c, 0) > 0 and c not in fixed and c not in known

    def propagate() -> None:
        while queue:
            i = queue.popleft()
            queued[i] = False
            members, total = groups[i]
            while True:
                inside = [m for m in members if m in hidden and values[m] > 0]
                zeros = any(m in hidden and not values[m] for m in members)
                withheld = sum(values[m] for m in inside)
                if total in hidden:
                    if inside or not any(values[m] > 0 for m in members):
                        break
                elif not inside or (
                    len(inside) + zeros >= 2
                    # Each withheld cell is known to be at least 1 while zeros are shown;
                    # with a zero withheld beside them, at least 0.
                    and withheld >= threshold + (1 if zeros else len(inside))
                ):
                    break
                left = [m for m in members if free(m)]
                if left:
                    hide(min(left, key=order))
                elif free(total):
                    hide(total)
                elif not zeros and (
                    nil := [
                        m
                        for m in members
                        if m not in hidden
                        and not values.get(m, 0)
                        and m not in fixed
                        and m not in known
                    ]
                ):
                    # The total is fixed (shown elsewhere) and every cell counted is
                    # withheld: the zeros beside them are withheld too, so that none of
                    # them is known to be at least 1.
                    for m in nil:
                        hidden.add(m)
                        zero_hidden.add(m)
                else:
                    break  # fixed elsewhere: nothing left to choose here

    def nearest(c: Cell) -> Cell | None:
        """The smallest shown cell in a group with ``c``; else in a group with a withheld
        cell of those groups; and so on outwards."""
        seen_cells, seen_groups = {c}, set()
        frontier = [c]
        while frontier:
            ring: set[Cell] = set()
            nxt = []
            for x in frontier:
                for g in of_cell.get(x, []):
                    if g in seen_groups:
                        continue
                    seen_groups.add(g)
                    for m in (*groups[g][0], groups[g][1]):
                        if free(m):
                            ring.add(m)
                        elif m in hidden and m not in seen_cells:
                            seen_cells.add(m)
                            nxt.append(m)
            if ring:
                return min(ring, key=order)
            frontier = nxt
        return None

    propagate()
    stuck: set[Cell] = set()
    while True:
        given = determined(table, {c for c in hidden if values.get(c, 0) > 0} | zero_hidden) - stuck
        if not given:
            break
        picks = set()
        for c in sorted(given):
            pick = nearest(c)
            if pick is None:
                # Given back by cells fixed elsewhere: nothing to choose. Withholding it
                # protects nothing, so it is shown (unless small: then it stays withheld)
                # and the groups it is in settle without it.
                stuck.add(c)
                if not is_small(values[c], threshold):
                    hidden.discard(c)
                    zero_hidden.discard(c)
                    known.add(c)
                    for g in of_cell.get(c, []):
                        if not queued[g]:
                            queued[g] = True
                            queue.append(g)
            else:
                picks.add(pick)
        for pick in sorted(picks):
            hide(pick)
        propagate()
    return {c for c in hidden if values.get(c, 0) > 0} | zero_hidden


PRIME = (1 << 61) - 1


def determined(table: Table, hidden: set[Cell]) -> set[Cell]:
    """The withheld cells that the shown ones and the groups fix: the groups' equations
    over the withheld cells, reduced (modulo a large prime: the coefficients are small
    integers); a cell is fixed when its reduced row holds it alone."""
    names = sorted(hidden)
    index = {c: i for i, c in enumerate(names)}
    pivots: dict[int, dict[int, int]] = {}
    for members, total in table.groups:
        row: dict[int, int] = {}
        for c, sign in (*((m, 1) for m in members), (total, -1)):
            if c in index:
                row[index[c]] = row.get(index[c], 0) + sign
        row = {k: v % PRIME for k, v in row.items() if v % PRIME}
        for k in [k for k in row if k in pivots]:
            f = row.get(k, 0)
            if not f:
                continue
            for j, v in pivots[k].items():
                n = (row.get(j, 0) - f * v) % PRIME
                if n:
                    row[j] = n
                else:
                    row.pop(j, None)
        if not row:
            continue
        k = min(row)
        inv = pow(row[k], PRIME - 2, PRIME)
        row = {j: v * inv % PRIME for j, v in row.items()}
        for other in pivots.values():
            f = other.get(k, 0)
            if f:
                for j, v in row.items():
                    n = (other.get(j, 0) - f * v) % PRIME
                    if n:
                        other[j] = n
                    else:
                        other.pop(j, None)
        pivots[k] = row
    return {names[k] for k, row in pivots.items() if len(row) == 1}
