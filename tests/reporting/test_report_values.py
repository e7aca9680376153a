"""Report values against a small hand-built history (each expected value worked by hand)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest

from services.reporting import statistics as st
from services.reporting.projections import make_consumer
from tests.reporting.builders import (
    T0,
    envelope,
    flagged,
    incident,
    report_event,
    roll,
    staff,
    training,
)
from tests.support.fixtures import auth


async def history(ctx) -> None:
    consume = make_consumer(ctx)
    events = [
        envelope(
            "roll.updated.v1",
            roll(total=200, sen_provision={"E": 10, "K": 40, "N": 150}),
            subject="100001:2026",
        )
    ]
    # 10 incidents at 100001: pupils p0..p5; p0 has 5 incidents. 3 seclusions.
    # SEN: p0, p1 are E (2 of 10 E pupils), p2 is K (1 of 40), p3..p5 are N (3 of 150).
    pupils = ["p0"] * 5 + ["p1", "p2", "p3", "p4", "p5"]
    sen = {"p0": "E", "p1": "E", "p2": "K"}
    for i, p in enumerate(pupils):
        kind = "seclusion" if i in (0, 1, 2) else "physical_restraint"
        late = timedelta(days=3) if i == 9 else timedelta(hours=2)
        events.append(
            envelope(
                "incident.submitted.v1",
                incident(
                    f"i-{i}",
                    pupil=p,
                    sen=sen.get(p, "N"),
                    kind=kind,
                    at=T0 + timedelta(days=i),
                    recorded_after=late,
                    staff_injuries=1 if i < 2 else 0,
                    staff_ids=("s-1",),
                ),
                subject=f"i-{i}",
            )
        )
    # Parent reports: delivered after 10, 20, 30, 40 minutes; one missed, one withheld.
    for i, minutes in enumerate((10, 20, 30, 40)):
        occurred = T0 + timedelta(days=i)
        done = occurred + timedelta(minutes=minutes)
        ids = {"report_id": f"r-{i}", "incident_id": f"i-{i}", "occurred": occurred, "at": done}
        events.append(
            envelope(
                "parent_report.delivered.v1",
                report_event("delivered", **ids),
                producer="notifications",
            )
        )
        events.append(
            envelope(
                "parent_report.completed.v1",
                report_event("completed", standard="missed" if i == 3 else "met", **ids),
                producer="notifications",
            )
        )
    events.append(
        envelope(
            "parent_report.withheld.v1",
            report_event("withheld", "r-9", "i-9", at=T0),
            producer="notifications",
        )
    )
    events.append(envelope("practice.flagged.v1", flagged("i-4", "prone_hold")))
    events.append(envelope("staff.updated.v1", staff("s-1")))
    events.append(envelope("staff.updated.v1", staff("s-2")))
    events.append(envelope("training.recorded.v1", training("s-2", "2025-01-01", "2027-01-10")))
    for e in events:
        assert await consume(e)


async def test_schools_summary_and_disproportionality_values(contexts, clients, token) -> None:
    await history(contexts["reporting"])
    rep = clients["reporting"]
    h = auth(token("trust_lead"))
    s = (await rep.get("/v1/trusts/TR00001/summary", headers=h)).json()
    assert s["incidents"]["total"]["count"] == 10 and s["incidents"]["seclusion"]["count"] == 3
    assert s["pupils"]["count"] == 6
    assert s["rates"]["incidents"]["value"] == 5.0  # 10 per 200 on roll
    # Top tenth of 6 pupils: ceil(0.6) = 1 pupil (p0) with 5 of 10 incidents.
    assert s["top_decile_share"]["value"] == 0.5
    row = (await rep.get("/v1/trusts/TR00001/schools", headers=h)).json()["schools"][0]
    assert row["seclusion_share"]["value"] == 0.3
    assert row["staff_injuries"]["count"] == 2 and row["late_records"]["count"] == 1
    pr = row["parent_reports"]
    assert (pr["met"]["count"], pr["missed"]["count"], pr["withheld"]["count"]) == (3, 1, 1)
    assert pr["met_share"]["value"] == 0.75
    assert pr["median_minutes_to_delivery"]["value"] == 25.0
    assert pr["p90_minutes_to_delivery"]["value"] == 37.0  # 30 + 0.7 * 10
    assert row["flagged_practices"]["count"] == 1
    assert row["training_coverage"]["value"] == 0.5  # s-2 in date, s-1 never trained
    t = (await rep.get("/v1/trusts/TR00001/training", headers=h)).json()["schools"][0]
    assert t["incidents_with_untrained_staff"]["count"] == 10  # s-1 in every incident
    assert t["expiring_90_days"]["count"] == 1  # 2027-01-10 is within 90 days of 2026-11-27
    d = (await rep.get("/v1/trusts/TR00001/disproportionality", headers=h)).json()["groups"]
    e = next(g for g in d if g["dimension"] == "sen" and g["group"] == "E")
    # E: 2 of 10 against N: 3 of 150 -> RR = 0.2 / 0.02 = 10
    assert e["comparator"] == "N" and e["risk_ratio"]["value"] == 10.0
    assert e["pupils_per_100"]["value"] == 20.0 and e["incidents_per_100"]["value"] == 60.0
    assert e["significant"] is True
    gov = (
        await rep.get("/v1/trusts/TR00001/disproportionality", headers=auth(token("governor")))
    ).json()["groups"]
    e = next(g for g in gov if g["dimension"] == "sen" and g["group"] == "E")
    assert e["pupils"]["suppressed"] and e["risk_ratio"]["suppressed"] and e["significant"] is None


async def test_distinct_pupils_per_interval(contexts, clients, token) -> None:
    await history(contexts["reporting"])
    rep = clients["reporting"]
    h = auth(token("trust_lead"))
    months = (
        await rep.get("/v1/trusts/TR00001/trends?metric=pupils&interval=month", headers=h)
    ).json()["points"]
    # All six pupils in October (p0's five incidents count once); no one in any other month.
    assert {p["label"]: p["value"]["count"] for p in months if p["value"]["count"]} == {
        months[1]["label"]: 6
    }
    assert months[1]["from_date"] == "2026-10-01"
    weeks = (
        await rep.get("/v1/trusts/TR00001/trends?metric=pupils&interval=week", headers=h)
    ).json()["points"]
    # Incident i is on 5 October + i days; pupils p0 x5, p1..p5 (hand-counted per week).
    days = {5 + i: p for i, p in enumerate(["p0"] * 5 + ["p1", "p2", "p3", "p4", "p5"])}
    for point in weeks:
        first, last = point["from_date"], point["to_date"]
        expected = {p for day, p in days.items() if first <= f"2026-10-{day:02d}" <= last}
        assert point["value"]["count"] == len(expected), point
    assert len([p for p in weeks if p["value"]["count"]]) >= 2  # the ten days span two weeks


async def test_timeliness_and_periods_use_the_schools_local_day(contexts, clients, token) -> None:
    from datetime import UTC, datetime

    consume = make_consumer(contexts["reporting"])
    # 31 Aug 2026 23:30 UTC is 1 Sep 00:30 in London: the new academic year, locally.
    at = datetime(2026, 8, 31, 23, 30, tzinfo=UTC)
    body = incident("i-late", at=at, recorded_after=timedelta(hours=47))
    body["incident"]["local_date"] = "2026-09-01"
    await consume(envelope("incident.submitted.v1", body, subject="i-late"))
    # Recorded 2 Sep 22:30 UTC = 23:30 London on 2 Sep: by the end of the next local day.
    on_time = incident("i-ok", at=at, recorded_after=timedelta(hours=47))
    on_time["incident"]["local_date"] = "2026-09-01"
    on_time["incident"]["recorded_at"] = datetime(2026, 9, 2, 22, 30, tzinfo=UTC).isoformat()
    await consume(envelope("incident.submitted.v1", on_time, subject="i-ok"))
    # 1 Sep 23:30 UTC is 3 Sep 00:30 London two days later: late.
    body["incident"]["recorded_at"] = datetime(2026, 9, 2, 23, 30, tzinfo=UTC).isoformat()
    body["incident"]["revision"] = 2
    await consume(
        envelope(
            "incident.amended.v1",
            {
                **body,
                "amendment": {
                    "revision": 2,
                    "author": "user:1",
                    "reason": "recorded time corrected",
                    "changed_fields": ["/recorded_at"],
                    "material": False,
                },
            },
            subject="i-late",
            revision=2,
        )
    )
    h = auth(token("trust_lead"))
    row = (
        await clients["reporting"].get(
            "/v1/trusts/TR00001/schools?academic_year=2026/27", headers=h
        )
    ).json()["schools"][0]
    assert row["incidents"]["count"] == 2 and row["late_records"]["count"] == 1
    last_year = (
        await clients["reporting"].get(
            "/v1/trusts/TR00001/summary?academic_year=2025/26", headers=h
        )
    ).json()
    assert last_year["incidents"]["total"]["count"] == 0


async def test_a_pupil_with_several_rows_counts_once_per_group(contexts, clients, token) -> None:
    """p-1 moves from K to E and from 100001 to 100002 in October; p-2 has one incident.
    Whatever the period's pieces (a whole year, whole months, or days from the facts), p-1
    counts once among all pupils of a gender, and once in each SEN group it was in."""
    consume = make_consumer(contexts["reporting"])
    events = [
        envelope("roll.updated.v1", roll(total=200), subject="100001:2026"),
        envelope("roll.updated.v1", roll(total=200, school="100002"), subject="100002:2026"),
    ]
    rows = [
        ("i-1", "p-1", "K", "100001", 0),
        ("i-2", "p-1", "K", "100001", 1),
        ("i-3", "p-1", "E", "100002", 2),
        ("i-4", "p-2", "N", "100001", 3),
    ]
    for iid, pupil, sen, school, day in rows:
        body = incident(
            iid, pupil=pupil, sen=sen, school=school, at=T0 + timedelta(days=day), gender="F"
        )
        events.append(envelope("incident.submitted.v1", body, subject=iid, school=school))
    for e in events:
        assert await consume(e)
    rep = clients["reporting"]
    h = auth(token("trust_lead"))
    for query in ("", "?term=autumn", "?from_date=2026-10-02&to_date=2026-11-20"):
        r = await rep.get(f"/v1/trusts/TR00001/disproportionality{query}", headers=h)
        g = {(x["dimension"], x["group"]): x for x in r.json()["groups"]}
        assert g[("gender", "F")]["pupils"]["count"] == 2, query
        assert g[("gender", "F")]["incidents"]["count"] == 4, query
        assert g[("sen", "K")]["pupils"]["count"] == 1, query
        assert g[("sen", "E")]["pupils"]["count"] == 1, query
        assert g[("sen", "K")]["incidents"]["count"] == 2, query
        s = (await rep.get(f"/v1/trusts/TR00001/summary{query}", headers=h)).json()
        assert s["pupils"]["count"] == 2, query


async def test_delivery_percentiles_equal_a_full_sort(contexts, clients, token) -> None:
    """Percentiles found by bin (whole months and weeks from the rollups, other days from the
    reports) equal sorting every report's minutes, for ragged ranges, a term and a year: minutes on
    bin edges, to the microsecond, negative, days late, and delivered twice. Incident counts
    (whole months from the monthly rollup, other days from the daily one) are exact too."""
    rng = random.Random(7)
    consume = make_consumer(contexts["reporting"])
    events, delivered, dated = [], [], []
    for i in range(90):
        school = ("100001", "100002")[i % 2]
        occurred = datetime(2026, 9, 20, 9, tzinfo=UTC) + timedelta(days=rng.randrange(80))
        dated.append((school, occurred.date()))
        events.append(
            envelope(
                "incident.submitted.v1",
                incident(f"i-{i}", school=school, pupil=f"p-{i % 17}", at=occurred),
                school=school,
                subject=f"i-{i}",
            )
        )
        if i % 9 == 4:
            continue  # never delivered: not timed
        minutes = rng.choice(
            [15, 30, 45, 14.999, -3, 2 * 1440, rng.uniform(0, 200), rng.randrange(1, 90)]
        )
        at = occurred + timedelta(minutes=minutes, microseconds=rng.randrange(1000))
        delivered.append((school, occurred.date(), (at - occurred) / timedelta(minutes=1)))
        ids = {"report_id": f"r-{i}", "incident_id": f"i-{i}", "occurred": occurred}
        for when in (at + timedelta(hours=1), at):  # the earliest delivery counts
            events.append(
                envelope(
                    "parent_report.delivered.v1",
                    report_event("delivered", **ids, at=when),
                    school=school,
                    producer="notifications",
                )
            )
    rng.shuffle(events)
    for e in events:
        assert await consume(e)
    h = auth(token("trust_lead"))
    for query, first, last in (
        ("from_date=2026-09-25&to_date=2026-11-20", date(2026, 9, 25), date(2026, 11, 20)),
        ("from_date=2026-10-01&to_date=2026-10-31", date(2026, 10, 1), date(2026, 10, 31)),
        # Whole weeks, one across the end of a month, and days around them.
        ("from_date=2026-09-21&to_date=2026-10-04", date(2026, 9, 21), date(2026, 10, 4)),
        ("from_date=2026-11-09&to_date=2026-11-15", date(2026, 11, 9), date(2026, 11, 15)),
        ("from_date=2026-10-20&to_date=2026-12-02", date(2026, 10, 20), date(2026, 12, 2)),
        ("term=autumn", date(2026, 9, 1), date(2026, 12, 31)),
        ("academic_year=2026", date(2026, 9, 1), date(2027, 8, 31)),
    ):
        rows = await clients["reporting"].get(f"/v1/trusts/TR00001/schools?{query}", headers=h)
        for row in rows.json()["schools"]:
            minutes = [x for s, d, x in delivered if s == row["school_urn"] and first <= d <= last]
            n = sum(1 for s, d in dated if s == row["school_urn"] and first <= d <= last)
            assert row["incidents"]["count"] == n, (query, row["school_urn"])
            pr = row["parent_reports"]
            for key, p in (("median", 0.5), ("p90", 0.9)):
                assert pr[f"{key}_minutes_to_delivery"]["value"] == pytest.approx(
                    st.percentile(minutes, p), abs=1e-4
                ), (query, row["school_urn"], key)
