"""Response formats: JSON, or CSV for ``Accept: text/csv`` (one row per table entry)."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import Request, Response
from pydantic import BaseModel

CSV = "text/csv"
META = ("trust_id", "period", "vocabulary_version", "data_as_of", "suppression_threshold")
# The filters a report echoes: their own columns, apart from each row's school and type.
FILTERS = ("setting_type", "school_urn")


def wants_csv(request: Request) -> bool:
    """Whether the caller prefers CSV to JSON (``Accept`` with its q-values: the higher
    wins; on a tie, the more specific type; without ``Accept``, JSON)."""
    best = {"csv": (0.0, 0), "json": (0.0, 0)}
    for part in request.headers.get("accept", "").split(","):
        kind, *params = (x.strip() for x in part.split(";"))
        q = 1.0
        for p in params:
            name, _, value = p.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        kind = kind.lower()
        for fmt, exact, family in (
            ("csv", CSV, "text/*"),
            ("json", "application/json", "application/*"),
        ):
            rank = 2 if kind == exact else 1 if kind == family else 0 if kind == "*/*" else -1
            if rank >= 0 and q > 0:
                best[fmt] = max(best[fmt], (q, rank))
    return best["csv"] > best["json"]


def _flatten(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        # A withheld count or statistic becomes an empty cell plus a `.suppressed` column.
        if set(value) <= {"count", "value", "suppressed"} and "suppressed" in value:
            inner = value.get("count", value.get("value"))
            out[prefix] = "" if inner is None else inner
            out[f"{prefix}.suppressed"] = value["suppressed"]
            return
        for k, v in value.items():
            _flatten(v, f"{prefix}.{k}" if prefix else k, out)
    elif isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            out[prefix] = ";".join(str(v) for v in value)
        else:
            for i, v in enumerate(value):
                _flatten(v, f"{prefix}.{i}", out)
    else:
        out[prefix] = "" if value is None else value


def to_csv(report: BaseModel, rows_field: str | None) -> str:
    """The report's table as CSV; each row repeats the period, vocabulary, freshness and
    filters. ``rows_field`` names the list (or lists, comma-separated: each row then says
    which in ``table``) whose entries are the rows; None: one row of every figure."""
    data = report.model_dump(mode="json")
    head: dict[str, Any] = {}
    for key in META:
        _flatten(data.get(key), key, head)
    for key in FILTERS:
        _flatten(data.get(key), f"filter.{key}", head)
    rows: list[dict[str, Any]] = []
    if rows_field:
        tables = rows_field.split(",")
        for table in tables:
            for item in data.get(table, []):
                row = dict(head)
                if len(tables) > 1:
                    row["table"] = table
                _flatten(item, "", row)
                rows.append(row)
    else:
        row = dict(head)
        _flatten({k: v for k, v in data.items() if k not in (*META, *FILTERS)}, "", row)
        rows.append(row)
    columns: list[str] = []
    for row in rows or [head]:
        columns += [c for c in row if c not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(_safe(row))
    return buf.getvalue()


def _safe(row: dict[str, Any]) -> dict[str, Any]:
    """Neutralise cells a spreadsheet would run as a formula."""
    return {
        k: (
            "'" + v
            if isinstance(v, str) and v[:1] in ("=", "+", "-", "@") and not _number(v)
            else v
        )
        for k, v in row.items()
    }


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def respond(request: Request, report: BaseModel, rows_field: str | None = None) -> Any:
    """The report as JSON (the model), or as CSV when asked."""
    if wants_csv(request):
        return Response(to_csv(report, rows_field), media_type="text/csv; charset=utf-8")
    return report
