"""Bulk NDJSON import of historic records, and the pupil's file."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.incidents import models as m
from tests.incidents.helpers import intervention, make_incident
from tests.support.fixtures import auth

pytestmark = pytest.mark.usefixtures("seeded")

NDJSON = {"Content-Type": "application/x-ndjson"}
TYPES = ["physical_restraint", "seclusion", "time out", "restraint", "reasonable_force"]


def historic(n: int) -> dict:
    start = datetime(2024, 1, 1, 9, tzinfo=UTC) + timedelta(hours=2 * n)
    return {
        "school_urn": f"10000{1 + n % 4}",
        "pupil_ref": f"DEMO-{(n % 4) * 6 + 1 + (n // 4) % 6:04d}",  # six demo pupils a school
        "occurred_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=3 + n % 11)).isoformat(),
        "intervention_type": TYPES[n % len(TYPES)],
        "summary": f"Historic record {n} from the previous MIS.",
        "source_system": "old-mis",
        "source_id": f"OLD-{n:05d}",
    }


def ndjson(records: list) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def results(r) -> list[dict]:
    return [json.loads(line) for line in r.text.splitlines()]


async def _count(ctx, table: sa.Table) -> int:
    async with ctx.db.transaction() as conn:
        return int(await conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)


async def test_ten_thousand_records_import_once(clients, token, seeded) -> None:
    body = ndjson([historic(n) for n in range(10_000)])
    assert len(body) > 1024 * 1024  # over the ordinary limit, under the import's own
    mis = {**auth(token("mis_client")), **NDJSON}
    before = await _count(seeded["incidents"], m.incident)
    started = time.monotonic()
    r = await clients["incidents"].post("/v1/incidents/bulk", content=body, headers=mis)
    elapsed = time.monotonic() - started
    assert r.status_code == 200, r.text[:500]
    out = results(r)
    assert len(out) == 10_000 and [x["line"] for x in out] == list(range(1, 10_001))
    assert {x["status"] for x in out} == {"created"}, [x for x in out if x["status"] != "created"][
        :3
    ]
    assert r.headers["candour-import-summary"] == "created=10000;unchanged=0;amended=0;failed=0"
    assert await _count(seeded["incidents"], m.incident) == before + 10_000

    again = await clients["incidents"].post("/v1/incidents/bulk", content=body, headers=mis)
    assert again.status_code == 200
    assert {x["status"] for x in results(again)} == {"unchanged"}
    assert await _count(seeded["incidents"], m.incident) == before + 10_000
    assert [x["incident_id"] for x in results(again)] == [x["incident_id"] for x in out]
    assert elapsed < 300
    async with seeded["incidents"].db.transaction() as conn:
        flags = await conn.execute(
            sa.select(m.outbox.c.payload).where(m.outbox.c.type == "incident.submitted.v1")
        )
        assert all(row.payload["incident"]["historic"] for row in flags)


async def test_imported_records_message_no_parent(clients, token, embedded) -> None:
    await embedded.pump()
    lines = [historic(n) for n in range(40)]
    r = await clients["incidents"].post(
        "/v1/incidents/bulk", content=ndjson(lines), headers={**auth(token("mis_client")), **NDJSON}
    )
    assert {x["status"] for x in results(r)} == {"created"}
    assert await embedded.pump() >= 40
    assert embedded.messages() == []


async def test_each_line_stands_alone(clients, token, seeded) -> None:
    good = historic(1)
    lines = [
        good,
        {**historic(2), "pupil_ref": "NOBODY", "occurred_at": "2030-01-01T00:00:00+00:00"},
        {**historic(3), "source_id": None},
        ["not", "an", "object"],
        {**historic(4), "duration_minutes": 5},
        {**historic(5), "school_urn": "100002", "pupil_ref": "DEMO-0001"},  # another school's pupil
    ]
    body = ndjson(lines) + b"{broken json\n\n"
    mis = {**auth(token("mis_client")), **NDJSON}
    r = await clients["incidents"].post("/v1/incidents/bulk", content=body, headers=mis)
    out = results(r)
    assert [x["status"] for x in out] == ["created"] + ["failed"] * 6
    assert {e["pointer"] for e in out[1]["errors"]} == {"/pupil_ref", "/occurred_at", "/ended_at"}
    assert out[2]["errors"][0]["pointer"] == "/source_id"
    assert out[4]["errors"][0]["pointer"] == "/duration_minutes"
    assert out[5]["errors"][0]["pointer"] == "/pupil_ref"
    assert r.headers["candour-import-summary"] == "created=1;unchanged=0;amended=0;failed=6"
    # A changed line amends the record it names, with the re-send reason.
    changed = {**good, "summary": "Corrected in the old MIS before migration."}
    r = await clients["incidents"].post(
        "/v1/incidents/bulk", content=ndjson([changed]), headers=mis
    )
    (res,) = results(r)
    assert (res["status"], res["revision"]) == ("amended", 2)
    rev = await clients["incidents"].get(
        f"/v1/incidents/{res['incident_id']}/revisions/2", headers=auth(token("trust_lead"))
    )
    assert rev.json()["reason"] == "re-sent by the source system"


async def test_import_is_refused_by_type_role_and_size(clients, token, settings) -> None:
    mis = auth(token("mis_client"))
    r = await clients["incidents"].post(
        "/v1/incidents/bulk", content=b"{}", headers={**mis, "Content-Type": "application/json"}
    )
    assert r.status_code == 415
    r = await clients["incidents"].post(
        "/v1/incidents/bulk", content=b"{}\n", headers={**auth(token("recorder")), **NDJSON}
    )
    assert r.status_code == 403
    huge = b" " * (33 * 1024 * 1024)
    r = await clients["incidents"].post(
        "/v1/incidents/bulk", content=huge, headers={**mis, **NDJSON}
    )
    assert r.status_code == 413
    # Every other route keeps the ordinary 1 MiB.
    big = make_incident(summary="x" * (2 * 1024 * 1024))
    r = await clients["incidents"].post("/v1/incidents", json=big, headers=mis)
    assert r.status_code == 413


async def test_same_incident_through_bulk_is_the_same_canonical_record(clients, token) -> None:
    lead = auth(token("trust_lead"))
    direct = make_incident()
    r = await clients["incidents"].post("/v1/incidents", json=direct, headers=lead)
    dialect = make_incident(
        intervention_type="Reflection Room",
        school_urn="100002",
        pupil_ref="DEMO-0007",
        interventions=[
            intervention(type="reflection room", technique="Caring C", staff=["STF-2001"])
        ],
        alternatives={"strategies": ["Reassurance", "time to calm"], "why_insufficient": "x"},
    )
    b = await clients["incidents"].post(
        "/v1/incidents/bulk", content=ndjson([dialect]), headers={**lead, **NDJSON}
    )
    (res,) = results(b)
    assert res["status"] == "created", res
    got = (
        await clients["incidents"].get(f"/v1/incidents/{res['incident_id']}", headers=lead)
    ).json()
    a = r.json()
    assert got["historic"] is True and a["historic"] is False
    for key in ("intervention_type", "duration_minutes"):
        assert got[key] == a[key]
    assert [i["type"] for i in got["interventions"]] == [i["type"] for i in a["interventions"]]
    assert [i["technique"] for i in got["interventions"]] == [
        i["technique"] for i in a["interventions"]
    ]
    assert [s["code"] for s in got["strategies"]] == [s["code"] for s in a["strategies"]]


async def test_pupil_file_holds_every_record_and_revision(clients, token) -> None:
    lead = auth(token("school_lead", schools=["100001"]))
    first = (
        await clients["incidents"].post("/v1/incidents", json=make_incident(), headers=lead)
    ).json()
    wrong = (
        await clients["incidents"].post("/v1/incidents", json=make_incident(), headers=lead)
    ).json()
    pid = first["pupil_id"]
    await clients["incidents"].post(
        f"/v1/incidents/{first['incident_id']}/amendments",
        json={"reason": "Location", "changes": {"location": "Hall"}},
        headers={**lead, "If-Match": '"1"'},
    )
    moved = await clients["incidents"].post(
        f"/v1/incidents/{wrong['incident_id']}/amendments",
        json={"reason": "Filed against the wrong pupil", "changes": {"pupil_ref": "DEMO-0002"}},
        headers={**lead, "If-Match": '"1"'},
    )
    assert moved.status_code == 200 and moved.json()["pupil_id"] != pid
    r = await clients["incidents"].get(f"/v1/pupils/{pid}/file", headers=lead)
    assert r.status_code == 200, r.text
    f = r.json()
    assert f["pupil"]["mis_ref"] == "DEMO-0001"
    by_id = {x["incident_id"]: x for x in f["records"]}
    kept = by_id[first["incident_id"]]
    assert [v["revision"] for v in kept["revisions"]] == [1, 2] and not kept[
        "voided_for_this_pupil"
    ]
    assert kept["revisions"][0]["incident"]["location"] == "Year 4 corridor"
    voided = by_id[wrong["incident_id"]]
    assert voided["voided_for_this_pupil"] and voided["current"] is None
    assert [v["revision"] for v in voided["revisions"]] == [1]  # the other pupil's stays out
    other = await clients["incidents"].get(
        f"/v1/pupils/{moved.json()['pupil_id']}/file", headers=lead
    )
    assert [x["incident_id"] for x in other.json()["records"]] == [wrong["incident_id"]]
    for denied, status in (
        (auth(token("school_lead", schools=["100002"])), 404),
        (auth(token("trust_lead", trust="TR00002")), 404),
        (auth(token("governor")), 403),
        (auth(token("recorder")), 403),
    ):
        assert (
            await clients["incidents"].get(f"/v1/pupils/{pid}/file", headers=denied)
        ).status_code == status


async def test_lines_over_the_limit_are_refused_each(clients, token, monkeypatch) -> None:
    from services.incidents import bulk

    monkeypatch.setattr(bulk, "MAX_RECORDS", 3)
    body = ndjson([historic(n) for n in range(200, 205)])
    r = await clients["incidents"].post(
        "/v1/incidents/bulk", content=body, headers={**auth(token("mis_client")), **NDJSON}
    )
    out = results(r)
    assert [x["status"] for x in out] == ["created"] * 3 + ["failed"] * 2
    assert "over 3 records" in out[3]["errors"][0]["detail"]
