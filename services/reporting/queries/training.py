"""Training: trained staff share, certificates expiring, incidents with staff out of date."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.reporting import models as m
from services.reporting.disclosure import HIDDEN, Count, share_of, small, suppress_one
from services.reporting.queries.base import Query, incident_rows, schools_in_scope
from services.reporting.queries.schools import training_coverage
from services.reporting.queries.summary import meta
from services.reporting.schemas_analysis import TrainingReport, TrainingRow

HIDDEN_COUNT = Count(count=None, suppressed=True)


async def training(conn: AsyncConnection, q: Query) -> TrainingReport:
    """Per school, as at the period's last date with data."""
    t = q.threshold
    on = q.as_at
    schools = await schools_in_scope(conn, q)
    coverage = await training_coverage(conn, q, on)
    tr = m.training_record
    expiring: dict[str, int] = dict(
        (
            await conn.execute(
                sa.select(tr.c.school_urn, sa.func.count())
                .where(
                    (tr.c.trust_id == q.trust_id)
                    & (tr.c.completed_on <= on)
                    & (tr.c.expires_on >= on)
                    & (tr.c.expires_on <= on + timedelta(days=90))
                )
                .group_by(tr.c.school_urn)
            )
        ).all()
    )
    x = incident_rows(q).c
    untrained: dict[str, int] = dict(
        (
            await conn.execute(
                sa.select(x.school_urn, sa.func.sum(x.untrained)).group_by(x.school_urn)
            )
        ).all()
    )
    urns = [x.urn for x in schools]
    # No answer publishes a total of these over schools: each is withheld on its own, the
    # same in every answer.
    staff = [suppress_one(coverage.get(u, (0, 0))[0], t) for u in urns]
    trained = [suppress_one(coverage.get(u, (0, 0))[1], t) for u in urns]
    for i, u in enumerate(urns):
        # Staff and trained side by side would reveal a small number without training.
        if small(coverage.get(u, (0, 0))[0] - coverage.get(u, (0, 0))[1], t):
            trained[i] = HIDDEN_COUNT
    exp = [suppress_one(int(expiring.get(u, 0)), t) for u in urns]
    unt = [suppress_one(int(untrained.get(u, 0)), t) for u in urns]
    rows = [
        TrainingRow(
            school_urn=x.urn,
            name=x.name,
            staff=staff[i],
            trained=trained[i],
            trained_share=share_of(
                coverage.get(x.urn, (0, 0))[1], coverage.get(x.urn, (0, 0))[0], t
            )
            if not (staff[i].suppressed or trained[i].suppressed)
            else HIDDEN,
            expiring_90_days=exp[i],
            incidents_with_untrained_staff=unt[i],
        )
        for i, x in enumerate(schools)
    ]
    return TrainingReport(**meta(q), as_at=on, schools=rows)  # type: ignore[arg-type]
