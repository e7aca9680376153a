"""The pupil's file: every record and revision of one pupil, for a transfer or a SAR."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import models as m
from services.incidents import repository as repo
from services.incidents.service import to_incident
from shared.auth.principal import Principal
from shared.clock import Clock
from shared.errors import NotFound

PUPIL_FIELDS = (
    "pupil_id",
    "school_urn",
    "mis_ref",
    "upn",
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "date_of_birth",
    "sen_provision",
    "year_group",
    "gender",
    "fsm_eligible",
    "fsm_ever6",
    "ethnicity",
    "handling_plan",
)


async def pupil_file(
    conn: AsyncConnection, principal: Principal, pupil_id: str, clock: Clock
) -> dict[str, Any]:
    """All of one pupil's records with every revision that was theirs.

    A record later moved to another pupil by amendment appears voided, with only the
    revisions made while it was this pupil's: the other pupil's data never leaves here.
    """
    pupil = await repo.get_pupil(conn, principal.trust_id, pupil_id)
    if pupil is None or not principal.may_see_school(pupil.school_urn):
        raise NotFound("No such pupil.")
    i, r = m.incident, m.incident_revision
    ids_now = sa.select(i.c.incident_id).where(
        (i.c.trust_id == principal.trust_id) & (i.c.pupil_id == pupil_id)
    )
    ids_then = sa.select(r.c.incident_id).where(
        (r.c.trust_id == principal.trust_id) & (r.c.pupil_id == pupil_id)
    )
    ids = sorted({row[0] for row in await conn.execute(ids_now.union(ids_then))})
    records = []
    for iid in ids:
        row = await repo.get_incident(conn, principal, iid)
        if row is None:
            continue
        mine = row.pupil_id == pupil_id
        revisions = [
            {
                "revision": rev.revision,
                "author": rev.author,
                "reason": rev.reason,
                "changed_fields": rev.changed_fields,
                "created_at": rev.created_at.isoformat(),
                "incident": (rev.body or {}).get("incident"),
            }
            for rev in await repo.list_revisions(conn, principal.trust_id, iid)
            if rev.pupil_id in (pupil_id, None) and (mine or rev.pupil_id == pupil_id)
        ]
        records.append(
            {
                "incident_id": iid,
                "voided_for_this_pupil": not mine,
                "current": to_incident(row).model_dump(mode="json") if mine else None,
                "revisions": revisions,
            }
        )
    records.sort(key=lambda x: (x["revisions"][0]["incident"] or {}).get("occurred_at", ""))
    details = {k: getattr(pupil, k) for k in PUPIL_FIELDS}
    if details["date_of_birth"] is not None:
        details["date_of_birth"] = str(details["date_of_birth"])
    return {
        "format": "candour.pupil-file.v1",
        "exported_at": clock.now().isoformat(),
        "exported_by": principal.subject,
        "trust_id": principal.trust_id,
        "pupil": details,
        "records": records,
    }
