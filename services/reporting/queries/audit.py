"""The trust's policy and data audit per school: from the data where it can answer, else
from the trust leads' answers (``school.audit_recorded``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting.disclosure import share_of
from services.reporting.queries.base import (
    Query,
    incident_rows,
    r,
    report_cond,
    schools_in_scope,
)
from services.reporting.queries.schools import training_coverage
from services.reporting.queries.summary import meta
from services.reporting.schemas_analysis import AuditItemRow, AuditReport

ITEMS = (
    "policy_in_place",
    "definitions_mapped",
    "records_arrive",
    "parents_told",
    "seclusion_named",
    "training_received",
    "staff_trained",
    "data_to_governors",
    "post_incident_review",
)


def _pct(part: int, whole: int, t: int | None, what: str) -> str | None:
    s = share_of(part, whole, t)
    if s.suppressed:
        return f"{what}: withheld (small numbers)"
    if s.value is None:
        return None
    return f"{what}: {round(100 * s.value)}%"


async def _by_school(conn: AsyncConnection, stmt: sa.Select[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for row in await conn.execute(stmt):
        out.setdefault(row[0], []).append(row[1:])
    return out


async def audit(conn: AsyncConnection, q: Query) -> AuditReport:
    """Nine items per school, each with where its answer came from."""
    t = q.threshold
    schools = await schools_in_scope(conn, q)
    a = m.school_audit
    answers = {
        (r.school_urn, r.item): r.answer
        for r in await conn.execute(sa.select(a).where(a.c.trust_id == q.trust_id))
    }
    src = incident_rows(q).c
    sources = await _by_school(
        conn,
        sa.select(src.school_urn, src.source, sa.func.sum(src.incidents)).group_by(
            src.school_urn, src.source
        ),
    )
    labels = await _by_school(
        conn,
        sa.select(src.school_urn, src.label).where(src.kind == "seclusion").distinct(),
    )
    reviewed = await _by_school(
        conn,
        sa.select(src.school_urn, sa.func.sum(src.incidents), sa.func.sum(src.reviewed)).group_by(
            src.school_urn
        ),
    )
    told = await _by_school(
        conn,
        sa.select(r.c.school_urn, sa.func.sum(r.c.completed), sa.func.sum(r.c.met))
        .where(report_cond(q))
        .group_by(r.c.school_urn)
        .having(sa.func.sum(r.c.completed) > 0),
    )
    tr = m.training_record
    providers = await _by_school(
        conn,
        sa.select(tr.c.school_urn, tr.c.provider).where(tr.c.trust_id == q.trust_id).distinct(),
    )
    coverage = await training_coverage(conn, q, q.as_at)
    rows: list[AuditItemRow] = []
    for school in schools:
        u = school.urn
        n = sum(int(c) for _, c in sources.get(u, []))
        data: dict[str, str | None] = {
            "definitions_mapped": (
                f"every record mapped to vocabulary version {q.vocabulary_version}" if n else None
            ),
            "records_arrive": "; ".join(
                x for src, c in sorted(sources.get(u, [])) if (x := _pct(int(c), n, t, str(src)))
            )
            or None,
            "parents_told": (
                _pct(int(told[u][0][1]), int(told[u][0][0]), t, "same day") if u in told else None
            ),
            "seclusion_named": ", ".join(sorted(str(x[0]) for x in labels.get(u, []) if x[0]))
            or None,
            "training_received": ", ".join(sorted(str(x[0]) for x in providers.get(u, []))) or None,
            "staff_trained": (
                _pct(coverage[u][1], coverage[u][0], t, "in date") if u in coverage else None
            ),
            "post_incident_review": (
                _pct(int(reviewed[u][0][1]), int(reviewed[u][0][0]), t, "reviewed")
                if u in reviewed
                else None
            ),
        }
        for item in ITEMS:
            lead = answers.get((u, item))
            answer = data.get(item)
            source = "data" if answer is not None else ("trust_lead" if lead else "none")
            rows.append(
                AuditItemRow(
                    school_urn=u,
                    item=item,
                    answer=answer if answer is not None else lead,
                    source=source,
                    trust_lead_answer=lead,
                )
            )
    return AuditReport(**meta(q), items=rows)  # type: ignore[arg-type]
