"""Every report answers, scoped to the caller, in JSON and CSV, stating period and freshness."""

from __future__ import annotations

import csv
import io

import pytest

from tests.support.fixtures import auth

pytestmark = pytest.mark.usefixtures("seeded")
AREAS = ("summary", "schools", "disproportionality", "outliers", "trends", "training", "audit")
SCHOOL_AREAS = ("summary", "disproportionality", "trends", "training", "audit")


async def test_every_report_states_period_vocabulary_and_freshness(clients, token, embedded):
    await embedded.pump()
    rep = clients["reporting"]
    for role in ("trust_lead", "governor"):
        for area in AREAS:
            r = await rep.get(f"/v1/trusts/TR00001/{area}", headers=auth(token(role)))
            assert r.status_code == 200, (area, r.text)
            body = r.json()
            assert body["period"]["label"] == "2026/27"
            assert body["vocabulary_version"] == 1
            assert body["data_as_of"] is not None
            assert body["suppression_threshold"] == (4 if role == "governor" else None)
        for area in SCHOOL_AREAS:
            r = await rep.get(f"/v1/schools/100003/{area}", headers=auth(token(role)))
            assert r.status_code == 200, (area, r.text)
            assert r.json()["school_urn"] == "100003"


async def test_csv_on_request(clients, token, embedded):
    await embedded.pump()
    r = await clients["reporting"].get(
        "/v1/trusts/TR00001/schools",
        headers={**auth(token("trust_lead")), "Accept": "text/csv"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["school_urn"] for row in rows] == ["100001", "100002", "100003", "100004"]
    assert all(row["period.label"] == "2026/27" and row["data_as_of"] for row in rows)
    assert sum(int(row["incidents"]) for row in rows) == 12
    # The filters echoed have their own columns, apart from each row's own school.
    special = await clients["reporting"].get(
        "/v1/trusts/TR00001/outliers?setting_type=special",
        headers={**auth(token("trust_lead")), "Accept": "text/csv"},
    )
    rows = list(csv.DictReader(io.StringIO(special.text)))
    assert rows and all(r["filter.setting_type"] == "special" for r in rows)
    assert {r["setting_type"] for r in rows} == {"special"}
    assert {r["table"] for r in rows} <= {"funnels", "signals"} and rows[0]["table"] == "funnels"
    # Accept's q-values choose: the higher wins, JSON by default.
    for accept, kind in (
        ("text/csv;q=0.5, application/json", "application/json"),
        ("application/json;q=0.5, text/csv", "text/csv"),
        ("*/*", "application/json"),
        ("text/*", "text/csv"),
        ("text/csv;q=0", "application/json"),
    ):
        r = await clients["reporting"].get(
            "/v1/trusts/TR00001/summary", headers={**auth(token("trust_lead")), "Accept": accept}
        )
        assert r.headers["content-type"].startswith(kind), accept


async def test_scope_roles_and_filters(clients, token, embedded):
    await embedded.pump()
    rep = clients["reporting"]
    lead = auth(token("trust_lead"))
    r = await rep.get(
        "/v1/trusts/TR00002/summary", headers=auth(token("trust_lead", trust="TR00002"))
    )
    assert r.status_code == 200 and r.json()["incidents"]["total"]["count"] == 0
    assert (await rep.get("/v1/trusts/TR00002/summary", headers=lead)).status_code == 404
    one = auth(token("school_lead", schools=["100001"]))
    assert (await rep.get("/v1/schools/100002/summary", headers=one)).status_code == 404
    assert (await rep.get("/v1/schools/999999/summary", headers=lead)).status_code == 404
    mine = (await rep.get("/v1/trusts/TR00001/schools", headers=one)).json()
    assert [s["school_urn"] for s in mine["schools"]] == ["100001"]
    assert (
        await rep.get("/v1/trusts/TR00001/summary", headers=auth(token("recorder")))
    ).status_code == 403
    bad = await rep.get(
        "/v1/trusts/TR00001/summary?academic_year=2026/28&from_date=2026-10-01&to_date=2026-09-01",
        headers=lead,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    pointers = {e["pointer"] for e in bad.json()["errors"]}
    assert {"#/query/academic_year", "#/query/from_date"} <= pointers
    # Dates no report can cover are refused by name, on every report, never a 500.
    for area in ("summary", "schools", "disproportionality", "outliers", "trends", "audit"):
        for query, field in (
            ("to_date=9999-12-31", "to_date"),
            ("from_date=0001-01-01&to_date=2026-01-01", "from_date"),
            ("academic_year=9999", "academic_year"),
            ("academic_year=0001", "academic_year"),
        ):
            far = await rep.get(f"/v1/trusts/TR00001/{area}?{query}", headers=lead)
            assert far.status_code == 422, (area, query, far.text)
            assert [e["pointer"] for e in far.json()["errors"]] == [f"#/query/{field}"]
    term = await rep.get(
        "/v1/trusts/TR00001/summary?academic_year=2025/26&term=spring", headers=lead
    )
    assert term.json()["period"] == {
        "from_date": "2026-01-01",
        "to_date": "2026-03-31",
        "label": "spring 2025/26",
        "kind": "term",
    }
    assert term.json()["incidents"]["total"]["count"] == 0
    # A period not begun yet compares with none of the one before (not its first day).
    ahead = (
        await rep.get("/v1/trusts/TR00001/summary?academic_year=2026/27&term=spring", headers=lead)
    ).json()["previous"]
    assert ahead["incidents"]["count"] == 0 and ahead["change"]["count"] == 0
    # Not begun: compared with as many days of the term before (its first).
    assert ahead["period"]["to_date"] == ahead["period"]["from_date"] == "2026-09-01"
    special = await rep.get("/v1/trusts/TR00001/summary?setting_type=special", headers=lead)
    assert [s["school_urn"] for s in special.json()["schools"]] == ["100003"]
    weeks = await rep.get(
        "/v1/trusts/TR00001/trends?metric=incidents&interval=week&from_date=2026-10-01&to_date=2026-11-27",
        headers=lead,
    )
    assert sum(p["value"]["count"] for p in weeks.json()["points"]) == 12


async def test_summary_csv_is_one_row_with_every_figure(clients, token, embedded):
    await embedded.pump()
    r = await clients["reporting"].get(
        "/v1/trusts/TR00001/summary",
        headers={**auth(token("governor")), "Accept": "text/csv"},
    )
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["incidents.total"] == "12" and row["period.label"] == "2026/27"
    assert row["schools.0.school_urn"] == "100001"
    # Withheld cells are empty, flagged in their own column, never a small number.
    assert row["incidents.seclusion"] == "" and row["incidents.seclusion.suppressed"] == "True"
