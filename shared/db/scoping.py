"""Tenancy in one place: every query of tenant data starts from the caller's scope."""

from __future__ import annotations

import sqlalchemy as sa

from shared.auth.principal import Principal


def scoped(table: sa.Table, principal: Principal) -> sa.ColumnElement[bool]:
    """The caller's trust and, unless it has them all, its schools (``school_urn``)."""
    cond = table.c.trust_id == principal.trust_id
    if principal.schools is not None:
        cond = cond & table.c.school_urn.in_(sorted(principal.schools))
    return cond
