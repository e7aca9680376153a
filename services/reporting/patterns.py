"""Withholding patterns that hold across answers: which schools' incident counts (and
which of their kinds) every answer of a period withholds, whatever the scope asked for, and
whether an answer's own total must be withheld beside them. So no two answers of different
scopes can be set against each other to give back a withheld count (within one answer,
:mod:`services.reporting.disclosure` does the rest)."""

from __future__ import annotations

from typing import Any

from services.reporting.disclosure import Count, is_small


def veiled_types(
    counts: dict[str, int],
    type_of: dict[str, str],
    hidden: frozenset[str],
    threshold: int | None,
) -> set[str]:
    """Setting types whose incident rate is withheld: those with a school withheld in every
    answer (:func:`canonical_hidden`), or a small total."""
    if threshold is None:
        return set()
    totals: dict[str, int] = {}
    for urn, kind in type_of.items():
        totals[kind] = totals.get(kind, 0) + counts.get(urn, 0)
    small_total = {kind for kind, n in totals.items() if is_small(n, threshold)}
    return small_total | {type_of[u] for u in hidden if u in type_of}


def canonical_hidden(
    counts: dict[str, int], type_of: dict[str, str], threshold: int | None
) -> frozenset[str]:
    """The schools whose incident counts are withheld in every answer of a period, whatever
    its scope: those with a small count and, so that no total of a setting type or of the
    trust gives one back, further schools (smallest first) within the same type, then
    across the trust. One choice for every answer: a school withheld to protect another is
    withheld in its own answers too, so no two answers can be set against each other."""
    if threshold is None:
        return frozenset()
    hidden = {u for u, n in counts.items() if is_small(n, threshold)}

    def safe(group: set[str]) -> bool:
        return len(group) != 1 and sum(counts.get(u, 0) for u in group) > threshold

    def complete(members: list[str]) -> None:
        inside = hidden & set(members)
        order = sorted(
            (u for u in members if u not in hidden and counts.get(u, 0) > 0),
            key=lambda u: (counts.get(u, 0), u),
        )
        while inside and not safe(inside) and order:
            inside.add(order.pop(0))
        hidden.update(inside)

    kinds = sorted(set(type_of.values()))
    for kind in kinds:
        complete(sorted(u for u, k in type_of.items() if k == kind))
    # A type whose withheld schools stay unsafe (its only school, say) has its total given
    # back by the trust's less the other types': withhold a school of another type too, so
    # that two types' totals are withheld, never one.
    unsafe = [
        k for k in kinds if _unsafe({u for u in hidden if type_of[u] == k}, counts, threshold)
    ]
    if len(unsafe) == 1:
        spare = sorted(
            (
                u
                for u in type_of
                if type_of[u] != unsafe[0] and u not in hidden and counts.get(u, 0) > 0
            ),
            key=lambda u: (any(type_of[h] == type_of[u] for h in hidden), counts.get(u, 0), u),
        )
        if spare:
            hidden.add(spare[0])
            unsafe.append(type_of[spare[0]])
    # Then the trust's own total, drawing first on the types not left withheld on purpose
    # (completing one of those would give its total, and so the other's, back).
    rest = sorted(u for u in type_of if type_of[u] not in unsafe)
    inside = set(hidden)
    order = sorted(
        (u for u in type_of if u not in hidden and counts.get(u, 0) > 0),
        key=lambda u: (u not in rest, counts.get(u, 0), u),
    )
    while inside and not safe(inside) and order:
        inside.add(order.pop(0))
    hidden.update(inside)
    return frozenset(hidden)


def forced_types(
    counts: dict[str, int],
    type_of: dict[str, str],
    hidden: frozenset[str],
    threshold: int | None,
) -> frozenset[str]:
    """Setting types whose total is withheld although their own withheld schools are safe:
    where one type alone stays unsafe (its only school, small) and no school of another
    type is left to withhold beside it, another type's total (the one with the most
    incidents) is withheld instead, so that the trust's total less the others' is two
    types' totals, never one."""
    if threshold is None:
        return frozenset()
    kinds = sorted(set(type_of.values()))
    unsafe = [
        k for k in kinds if _unsafe({u for u in hidden if type_of[u] == k}, counts, threshold)
    ]
    if len(unsafe) != 1:
        return frozenset()
    others = [k for k in kinds if k != unsafe[0]]
    if not others:
        return frozenset()
    totals = {k: sum(counts.get(u, 0) for u in type_of if type_of[u] == k) for k in others}
    return frozenset({max(others, key=lambda k: (totals[k], k))})


def _unsafe(group: set[Any], counts: dict[Any, int], threshold: int) -> bool:
    """Withheld cells whose total, given, would give one back (one alone, or a small sum)."""
    return bool(group) and (len(group) == 1 or sum(counts.get(u, 0) for u in group) <= threshold)


KINDS = ("restraint", "seclusion", "other")


def canonical_kinds(
    cells: dict[tuple[str, str], int],
    type_of: dict[str, str],
    hidden_schools: frozenset[str],
    threshold: int | None,
) -> frozenset[tuple[str, str]]:
    """The (school, kind) counts withheld in every answer of a period (see
    :func:`canonical_table`: each school's kinds add up to its total)."""
    return canonical_table(cells, KINDS, type_of, hidden_schools, threshold)


def canonical_table(
    cells: dict[tuple[str, str], int],
    columns: tuple[str, ...],
    type_of: dict[str, str],
    hidden_rows: frozenset[str],
    threshold: int | None,
) -> frozenset[tuple[str, str]]:
    """The (school, column) counts withheld in every answer: a school's columns (its
    kinds, the intervals of a period, the terms of a year, the groups of a characteristic)
    add up to its total, withheld for the schools in ``hidden_rows``; and each column over
    a setting type or the trust adds up to a published total. Small cells are withheld;
    then, until nothing changes, further cells (smallest first) so that in every school
    and in every column of every type and of the trust, what is withheld is nothing, or
    at least two cells summing to more than the threshold; a school whose total is
    withheld keeps at least one column withheld."""
    if threshold is None:
        return frozenset()
    hidden = {key for key, n in cells.items() if is_small(n, threshold)}
    columns = tuple(columns)

    def value(key: tuple[str, str]) -> int:
        return cells.get(key, 0)

    def ok(group: list[tuple[str, str]], total_hidden: bool) -> bool:
        inside = [k for k in group if k in hidden]
        if total_hidden:  # one withheld is enough where the total is withheld too
            return not any(value(k) for k in group) or any(value(k) for k in inside)
        return not inside or (len(inside) >= 2 and sum(value(k) for k in inside) > threshold)

    def lonely(key: tuple[str, str], row_group: bool) -> bool:
        """Withholding this cell for a column would leave it alone in its school's row
        (nothing else there to withhold beside it, the school's total shown): pointless."""
        u = key[0]
        if row_group or u in hidden_rows:
            return False
        return not any(
            value((u, c)) > 0 or (u, c) in hidden for c in columns if (u, c) != key
        )

    def settle(
        group: list[tuple[str, str]],
        total_hidden: bool,
        row_group: bool,
        avoid: frozenset[str] = frozenset(),
    ) -> bool:
        if ok(group, total_hidden):
            return False
        order = sorted(
            (k for k in group if k not in hidden and value(k) > 0 and not lonely(k, row_group)),
            key=lambda k: (type_of.get(k[0]) in avoid, value(k), k),
        )
        if not order:
            return False  # nothing left to withhold here: the total is small, or withheld
        hidden.add(order[0])
        return True

    schools = sorted(type_of)
    types = sorted(set(type_of.values()))
    members = {kind: [u for u in schools if type_of[u] == kind] for kind in types}
    # (cells, the total withheld, the (type, column) it is, or None for a school's row)
    groups: list[tuple[list[tuple[str, str]], bool, tuple[str, str] | None]] = [
        ([(u, c) for c in columns], u in hidden_rows, None) for u in schools
    ]
    for kind in types:
        groups += [([(u, c) for u in members[kind]], False, (kind, c)) for c in columns]
    groups += [([(u, c) for u in schools], False, ("*", c)) for c in columns]

    def unsafe_types(c: str) -> list[str]:
        return [
            kind
            for kind in types
            if _unsafe({(u, c) for u in members[kind]} & hidden, cells, threshold)
        ]

    # Type columns left withheld on purpose (their total is withheld instead).
    sacrificed: set[tuple[str, str]] = set()
    changed = True
    while changed:
        changed = False
        for group, need_any, column in groups:
            if column is not None and column in sacrificed:
                continue
            avoid: frozenset[str] = frozenset()
            if column is not None and column[0] == "*":
                # The trust's column draws first on types not left withheld on purpose.
                avoid = frozenset(t for t, c in sacrificed if c == column[1]) | frozenset(
                    unsafe_types(column[1])
                )
            while settle(group, need_any, column is None, avoid):
                changed = True
        for c in columns:
            # As for schools' totals: a column's total in one type alone withheld would be
            # the trust's less the other types'.
            unsafe = unsafe_types(c)
            if len(unsafe) != 1:
                continue
            spare = sorted(
                (
                    (u, c)
                    for u in schools
                    if type_of[u] != unsafe[0]
                    and (u, c) not in hidden
                    and value((u, c)) > 0
                    and not lonely((u, c), False)
                ),
                key=lambda key: (value(key), key),
            )
            if spare:
                hidden.add(spare[0])
                sacrificed.add((type_of[spare[0][0]], c))
                changed = True
    return frozenset(hidden)


def kinds_veiled(
    urns: list[str],
    cells: dict[tuple[str, str], int],
    hidden: frozenset[tuple[str, str]],
    threshold: int | None,
) -> frozenset[str]:
    """The kinds whose total over these schools must be withheld (it would give back a
    withheld (school, kind) count, or is small)."""
    if threshold is None:
        return frozenset()
    out = set()
    for k in KINDS:
        keys = [(u, k) for u in urns]
        if scope_veiled(keys, {key: cells.get(key, 0) for key in keys}, hidden, threshold):
            out.add(k)
    return frozenset(out)


def scope_veiled(
    urns: list[Any], counts: dict[Any, int], hidden: frozenset[Any], threshold: int | None
) -> bool:
    """Whether a total over these schools must be withheld: it would give back a withheld
    school (the only one withheld in it, or withheld ones summing to a small count), or
    it is small itself."""
    if threshold is None:
        return False
    inside = [u for u in urns if u in hidden]
    total = sum(counts.get(u, 0) for u in urns)
    withheld = sum(counts.get(u, 0) for u in inside)
    return is_small(total, threshold) or (
        bool(inside) and (len(inside) == 1 or withheld <= threshold)
    )


def school_cells(urns: list[str], counts: dict[str, int], hidden: frozenset[str]) -> list[Count]:
    """Schools' incident counts as every answer of the period shows them."""
    return [
        Count(count=None, suppressed=True) if u in hidden else Count(count=counts.get(u, 0))
        for u in urns
    ]
