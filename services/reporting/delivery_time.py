"""A parent report's minutes from its incident to its first delivery, and their bin: one
SQL expression, exact on PostgreSQL and SQLite, used by the projections and the refill."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from services.reporting import models as m


class Microseconds(sa.sql.expression.ColumnElement[int]):
    """Whole microseconds from one UTC time to a later one, exact on either dialect."""

    inherit_cache = True
    type = sa.BigInteger()
    _traverse_internals = [
        ("later", InternalTraversal.dp_clauseelement),
        ("earlier", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, later: sa.ColumnElement[Any], earlier: sa.ColumnElement[Any]) -> None:
        self.later, self.earlier = later, earlier


@compiles(Microseconds, "postgresql")
def _microseconds_pg(element: Microseconds, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = compiler.process(element.later, **kw), compiler.process(element.earlier, **kw)
    return f"CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) * 1000000 AS BIGINT)"


@compiles(Microseconds, "sqlite")
def _microseconds_sqlite(element: Microseconds, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps a UTC time as 'YYYY-MM-DD HH:MM:SS.ffffff': whole seconds, then digits.
    def us(col: sa.ColumnElement[Any]) -> str:
        c = compiler.process(col, **kw)
        return (
            f"(CAST(strftime('%s', {c}) AS INTEGER) * 1000000"
            f" + CAST(substr({c}, 21, 6) AS INTEGER))"
        )

    return f"({us(element.later)} - {us(element.earlier)})"


BIN_MINUTES = 15


def delivery_values() -> dict[str, sa.ColumnElement[Any]]:
    """A parent report's minutes from its incident to its first delivery, and their bin
    (NULL until delivered): the same statement in the projections and in the refill."""
    s = m.parent_report_status
    us = Microseconds(s.c.first_delivered_at, s.c.incident_occurred_at)
    return {
        "delivery_minutes": sa.cast(us, sa.Float) / sa.literal(60_000_000.0, sa.Float),
        # Integer division: bins in the order of the minutes (toward zero below zero).
        "delivery_bin": us // sa.literal(BIN_MINUTES * 60_000_000, sa.BigInteger),
    }
