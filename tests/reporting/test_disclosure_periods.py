"""Disclosure across periods and intervals: a governor who reads the year, each term, each
month and each term's trend, for the trust, each setting type and each school, can solve
for none of the cells withheld from them; and date ranges (any two of which, a day apart,
would give back a day's counts) are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from services.reporting.projections import make_consumer
from tests.reporting.builders import envelope, incident, roll
from tests.reporting.test_disclosure import Seen, determined, walk
from tests.support.fixtures import auth

YEAR = "2025/26"
TERMS = {"autumn": (9, 10, 11, 12), "spring": (1, 2, 3), "summer": (4, 5, 6, 7)}
KINDS = ("restraint", "seclusion", "other")
# School: (setting type, per term: (restraints, seclusions, staff injuries)).
PLAN: dict[str, tuple[str, dict[str, tuple[int, int, int]]]] = {
    "100001": ("primary", {"autumn": (10, 2, 3), "spring": (9, 0, 0), "summer": (2, 0, 0)}),
    "100002": ("primary", {"autumn": (7, 1, 0), "spring": (0, 0, 0), "summer": (8, 1, 0)}),
    "100003": ("primary", {"autumn": (14, 1, 1), "spring": (3, 0, 0), "summer": (11, 0, 0)}),
    "100004": ("secondary", {"autumn": (18, 2, 0), "spring": (12, 2, 6), "summer": (1, 0, 0)}),
    "100005": ("secondary", {"autumn": (6, 0, 0), "spring": (5, 2, 0), "summer": (8, 0, 2)}),
    "100006": ("special", {"autumn": (3, 0, 0), "spring": (4, 0, 0), "summer": (6, 0, 0)}),
}


def month_of(term: str, k: int) -> tuple[int, int]:
    months = TERMS[term]
    month = months[k % len(months)]
    return (2025 if month >= 9 else 2026), month


async def load(contexts) -> None:
    consume = make_consumer(contexts["reporting"])
    for urn, (setting, terms) in PLAN.items():
        assert await consume(
            envelope(
                "roll.updated.v1",
                roll(school=urn, year=YEAR, total=400),
                school=urn,
                subject=f"{urn}:{YEAR}",
            )
        )
        for term, (restraints, seclusions, injuries) in terms.items():
            for k in range(restraints + seclusions):
                year, month = month_of(term, k)
                at = datetime(year, month, 3 + k % 20, 10, 0, tzinfo=UTC)
                iid = f"i-{urn}-{term}-{k}"
                body = incident(
                    iid,
                    school=urn,
                    setting=setting,
                    # A pupil per incident, but a few with two (within a term).
                    pupil=f"p-{urn}-{term}-{k - k % 5 if k % 5 == 1 else k}",
                    kind="seclusion" if k < seclusions else "physical_restraint",
                    at=at,
                    staff_injuries=1 if k < injuries else 0,
                    sen="E" if k % 3 == 0 else "N",
                    gender="F" if k % 2 else "M",
                )
                assert await consume(
                    envelope("incident.submitted.v1", body, school=urn, subject=iid, at=at)
                )


async def test_terms_months_and_scopes_give_no_withheld_cell_back(contexts, clients, token):
    await load(contexts)
    rep, h = clients["reporting"], auth(token("governor"))
    types = sorted({setting for setting, _ in PLAN.values()})
    scopes: dict[str, tuple[str, list[str]]] = {"trust": ("", list(PLAN))}
    for kind in types:
        scopes[kind] = (f"setting_type={kind}&", [u for u in PLAN if PLAN[u][0] == kind])
    seen = Seen()
    cell, equations = seen.cell, seen.equations
    received: list[Any] = []

    async def get(path: str) -> dict[str, Any]:
        r = await rep.get(path, headers=h)
        assert r.status_code == 200, (path, r.text)
        received.append(r.json())
        return r.json()

    def add(parts: list[str], total: str) -> None:
        equations.append(({p: 1 for p in parts} | {total: -1}, 0))

    periods = {"year": f"academic_year={YEAR}"}
    periods |= {t: f"academic_year={YEAR}&term={t}" for t in TERMS}
    for p, query in periods.items():
        for name, (flt, members) in scopes.items():
            body = await get(f"/v1/trusts/TR00001/summary?{flt}{query}")
            total = cell(f"{name}.{p}", body["incidents"]["total"])
            kinds = [cell(f"{name}.{p}.{k}", body["incidents"][k]) for k in KINDS]
            add(kinds, total)
            for x in body["schools"]:
                cell(f"{x['school_urn']}.{p}", x["incidents"])
            add([f"{u}.{p}" for u in members], total)
            for k in KINDS:
                add([f"{u}.{p}.{k}" for u in members], f"{name}.{p}.{k}")
        for u in PLAN:
            body = await get(f"/v1/schools/{u}/summary?{query}")
            total = cell(f"{u}.{p}", body["incidents"]["total"])
            add([cell(f"{u}.{p}.{k}", body["incidents"][k]) for k in KINDS], total)
        for name, (flt, members) in [*scopes.items(), *((u, ("", [u])) for u in PLAN)]:
            base = f"/v1/schools/{name}/" if name in PLAN else "/v1/trusts/TR00001/"
            body = await get(f"{base}summary?{flt}{query}")
            cell(f"{name}.{p}", body["incidents"]["total"])
            pupils = cell(f"{name}.{p}.pupils", body["pupils"])
            if name not in PLAN:
                add([f"{u}.{p}.pupils" for u in members], pupils)
            groups = (await get(f"{base}disproportionality?{flt}{query}"))["groups"]
            for dim in ("sen", "gender", "fsm"):
                mine = [x for x in groups if x["dimension"] == dim]
                for what, total in (("incidents", f"{name}.{p}"), ("pupils", pupils)):
                    names = [cell(f"{name}.{p}.{dim}.{x['group']}.{what}", x[what]) for x in mine]
                    add(names, total)
                    if name not in PLAN:
                        for x in mine:
                            add(
                                [f"{u}.{p}.{dim}.{x['group']}.{what}" for u in members],
                                f"{name}.{p}.{dim}.{x['group']}.{what}",
                            )
        rows = (await get(f"/v1/trusts/TR00001/schools?{query}"))["schools"]
        for x in rows:
            u = x["school_urn"]
            cell(f"{u}.{p}", x["incidents"])
            cell(f"{u}.{p}.seclusion", x["seclusion"])
            cell(f"{u}.{p}.injuries", x["staff_injuries"])
    for u in PLAN:
        for what in ("", ".restraint", ".seclusion", ".other", ".injuries"):
            add([f"{u}.{t}{what}" for t in TERMS], f"{u}.year{what}")
        for g in ("sen.E", "sen.N", "gender.F", "gender.M"):
            add([f"{u}.{t}.{g}.incidents" for t in TERMS], f"{u}.year.{g}.incidents")
    # Each scope's months and terms over the year, as trends: they add up over schools, to
    # each term, and to the year.
    for name, (flt, members) in [*scopes.items(), *((u, ("", [u])) for u in PLAN)]:
        base = f"/v1/schools/{name}/trends?" if name in PLAN else f"/v1/trusts/TR00001/trends?{flt}"
        for metric, suffix in (("incidents", ""), ("staff_injuries", ".injuries")):
            points = (await get(f"{base}metric={metric}&interval=month&academic_year={YEAR}"))[
                "points"
            ]
            months = [cell(f"{name}.{x['label']}{suffix}", x["value"]) for x in points]
            add(months, f"{name}.year{suffix}")
            for term, in_term in TERMS.items():
                add(
                    [
                        m
                        for m, x in zip(months, points, strict=True)
                        if int(x["label"][5:]) in in_term
                    ],
                    f"{name}.{term}{suffix}",
                )
            if name not in PLAN:
                for x in points:
                    add(
                        [f"{u}.{x['label']}{suffix}" for u in members],
                        f"{name}.{x['label']}{suffix}",
                    )
        # A term's months (whole months here) are the year's months, as the year shows them.
        for term in TERMS:
            points = (
                await get(f"{base}metric=incidents&interval=month&academic_year={YEAR}&term={term}")
            )["points"]
            for x in points:
                cell(f"{name}.{x['label']}", x["value"])
        # Distinct pupils per term (each pupil here has incidents in one school and term).
        points = (await get(f"{base}metric=pupils&interval=term&academic_year={YEAR}"))["points"]
        for x in points:
            cell(f"{name}.{x['label'].split()[0]}.pupils", x["value"])
        for metric, suffix in (("incidents", ""), ("seclusion", ".seclusion")):
            points = (await get(f"{base}metric={metric}&interval=term&academic_year={YEAR}"))[
                "points"
            ]
            for x in points:
                cell(f"{name}.{x['label'].split()[0]}{suffix}", x["value"])
    for body in received:
        for path, value in walk(body):
            if path.endswith(("/count", "/value")) and isinstance(value, int):
                assert not 1 <= value <= 4, (path, value)
    assert "100001.summer" in seen.hidden and "100004.summer" in seen.hidden
    assert seen.hidden & set(seen.known) == set()
    assert determined(equations, seen.known) & seen.hidden == set()
    # What a governor is shown is what a trust lead reads.
    lead = auth(token("trust_lead"))
    for p, query in periods.items():
        for name, (flt, _) in [*scopes.items(), *((u, ("", [u])) for u in PLAN)]:
            base = f"/v1/schools/{name}/" if name in PLAN else "/v1/trusts/TR00001/"
            groups = (await rep.get(f"{base}disproportionality?{flt}{query}", headers=lead)).json()
            for x in groups["groups"]:
                for what in ("incidents", "pupils", "roll"):
                    key = f"{name}.{p}.{x['dimension']}.{x['group']}.{what}"
                    if key in seen.known:
                        assert seen.known[key] == x[what]["count"], key
            body = (await rep.get(f"{base}summary?{flt}{query}", headers=lead)).json()
            if f"{name}.{p}.pupils" in seen.known:
                assert seen.known[f"{name}.{p}.pupils"] == body["pupils"]["count"]
    # The control: one withheld term shown gives others back through the year.
    leaked = dict(seen.known) | {"100001.summer": 2}
    assert determined(equations, leaked) & seen.hidden - {"100001.summer"}


async def test_previous_windows_are_whole_periods_or_withheld(contexts, clients, token):
    """A period that has ended is compared with the whole period before (an answer of its
    own); one still running, with the same days before: a date range, withheld from
    aggregate readers (a day longer each day, it would give back a day's counts)."""
    await load(contexts)
    rep, h = clients["reporting"], auth(token("governor"))
    ended = (await rep.get(f"/v1/trusts/TR00001/summary?academic_year={YEAR}", headers=h)).json()
    assert ended["previous"]["period"]["from_date"] == "2024-09-01"
    assert ended["previous"]["period"]["to_date"] == "2025-08-31"
    spring = (
        await rep.get(f"/v1/trusts/TR00001/summary?academic_year={YEAR}&term=spring", headers=h)
    ).json()
    # The whole autumn term before, as its own answer shows it.
    autumn = (
        await rep.get(f"/v1/trusts/TR00001/summary?academic_year={YEAR}&term=autumn", headers=h)
    ).json()
    assert spring["previous"]["period"]["to_date"] == "2025-12-31"
    assert spring["previous"]["incidents"] == autumn["incidents"]["total"]
    running = (await rep.get("/v1/trusts/TR00001/summary", headers=h)).json()
    assert running["previous"]["period"]["to_date"] < "2025-12-01"  # cut to the days so far
    assert running["previous"]["incidents"]["suppressed"]
    assert running["previous"]["change"]["suppressed"]
    assert running["previous"]["change_share"]["suppressed"]
    lead = (await rep.get("/v1/trusts/TR00001/summary", headers=auth(token("trust_lead")))).json()
    assert lead["previous"]["incidents"]["count"] > 4


async def test_aggregate_readers_are_refused_date_ranges(seeded, clients, token):
    rep = clients["reporting"]
    r = await rep.get(
        "/v1/trusts/TR00001/summary?from_date=2026-10-01&to_date=2026-10-02",
        headers=auth(token("governor")),
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["pointer"] == "#/query/from_date"
    r = await rep.get(
        "/v1/schools/100001/trends?to_date=2026-10-02", headers=auth(token("governor"))
    )
    assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "#/query/to_date"
    for path in (
        "trends?metric=pupils&interval=week",
        "trends?metric=incidents&interval=week",
    ):
        r = await rep.get(f"/v1/trusts/TR00001/{path}", headers=auth(token("governor")))
        assert r.status_code == 422 and r.json()["errors"][0]["pointer"] == "#/query/interval"
    lead = await rep.get(
        "/v1/trusts/TR00001/summary?from_date=2026-10-01&to_date=2026-10-02",
        headers=auth(token("trust_lead")),
    )
    assert lead.status_code == 200
