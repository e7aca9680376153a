"""A governor never receives a count from 1 to 4, nor anything identifying a pupil, and no
suppressed cell can be rebuilt from everything a governor receives."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from services.reporting.disclosure import suppress_group
from services.reporting.patterns import KINDS
from services.reporting.projections import make_consumer
from tests.reporting.builders import envelope, incident, report_event, roll
from tests.support.fixtures import auth

AREAS = ("summary", "schools", "disproportionality", "outliers", "training", "audit")
URNS = ("100001", "100002", "100003", "100004")


def walk(value: Any, path: str = ""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{path}/{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}/{i}")
    else:
        yield path, value


async def governor_view(clients, token, schools=None) -> dict[str, Any]:
    rep = clients["reporting"]
    h = auth(token("governor", schools=schools))
    seen: dict[str, Any] = {}
    for area in AREAS:
        seen[area] = (await rep.get(f"/v1/trusts/TR00001/{area}", headers=h)).json()
    for metric in ("incidents", "seclusion", "restraint", "staff_injuries", "pupils"):
        interval = "month"  # by month or term for these readers
        r = await rep.get(
            f"/v1/trusts/TR00001/trends?metric={metric}&interval={interval}", headers=h
        )
        assert r.status_code == 200, r.text
        seen[f"trends/{metric}"] = r.json()
    for urn in schools or URNS:
        r = await rep.get(f"/v1/schools/{urn}/summary", headers=h)
        seen[f"school/{urn}"] = r.json()
    return seen


def determined(equations: list[tuple[dict[str, int], int]], known: dict[str, int]) -> set[str]:
    """Unknowns fixed by the linear equations (Gaussian elimination over the rationals)."""
    rows = []
    for coeffs, total in equations:
        rest = Fraction(total) - sum(c * known[v] for v, c in coeffs.items() if v in known)
        row = {v: Fraction(c) for v, c in coeffs.items() if v not in known}
        if row:
            rows.append((row, rest))
    names = sorted({v for row, _ in rows for v in row})
    matrix = [[row.get(v, Fraction(0)) for v in names] for row, _ in rows]
    # Reduced row echelon form: an unknown is determined iff some row is exactly e_v.
    lead = 0
    for col in range(len(names)):
        pivot = next((r for r in range(lead, len(matrix)) if matrix[r][col] != 0), None)
        if pivot is None:
            continue
        matrix[lead], matrix[pivot] = matrix[pivot], matrix[lead]
        p = matrix[lead][col]
        matrix[lead] = [x / p for x in matrix[lead]]
        for r in range(len(matrix)):
            if r != lead and matrix[r][col] != 0:
                factor = matrix[r][col]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[lead], strict=True)]
        lead += 1
    solved = set()
    for row in matrix:
        nonzero = [i for i, x in enumerate(row) if x != 0]
        if len(nonzero) == 1:
            solved.add(names[nonzero[0]])
    return solved


class Seen:
    """The cells a governor received, by name: known values, withheld names, and linear
    relations between them."""

    def __init__(self) -> None:
        self.known: dict[str, int] = {}
        self.hidden: set[str] = set()
        self.equations: list[tuple[dict[str, int], int]] = []

    def cell(self, name: str, c: dict[str, Any]) -> str:
        """Record one received cell under ``name`` (a cell shown twice must agree)."""
        if c["suppressed"]:
            self.hidden.add(name)
        else:
            assert self.known.get(name, c["count"]) == c["count"], name
            self.known[name] = c["count"]
        return name


def audit(seen: dict[str, Any]) -> list[str]:
    """Suppressed incident cells a governor could recover from linear relations."""
    seen_ = Seen()
    known, hidden, equations, cell = seen_.known, seen_.hidden, seen_.equations, seen_.cell

    s = seen["summary"]
    kinds = [cell(f"trust.{k}", s["incidents"][k]) for k in ("restraint", "seclusion", "other")]
    total = cell("trust.total", s["incidents"]["total"])
    per_school = [cell(f"{x['school_urn']}.total", x["incidents"]) for x in s["schools"]]
    for x in seen["schools"]["schools"]:
        cell(f"{x['school_urn']}.total", x["incidents"])
        cell(f"{x['school_urn']}.seclusion", x["seclusion"])
    weeks = [cell(f"week.{p['label']}", p["value"]) for p in seen["trends/incidents"]["points"]]
    sec_weeks = [
        cell(f"secweek.{p['label']}", p["value"]) for p in seen["trends/seclusion"]["points"]
    ]
    by_school_kind: dict[str, list[str]] = {k: [] for k in ("restraint", "seclusion", "other")}
    for key, body in seen.items():
        if key.startswith("school/"):
            urn = key.split("/")[1]
            parts = []
            for k in ("restraint", "seclusion", "other"):
                name = cell(f"{urn}.{k}", body["incidents"][k])
                parts.append(name)
                by_school_kind[k].append(name)
            equations.append(({p: 1 for p in parts} | {f"{urn}.total": -1}, 0))
    for group in (kinds, per_school, weeks):
        equations.append(({g: 1 for g in group} | {total: -1}, 0))
    equations.append(({w: 1 for w in sec_weeks} | {"trust.seclusion": -1}, 0))
    for k, names in by_school_kind.items():
        if names and len(names) == len(per_school):
            equations.append(({n: 1 for n in names} | {f"trust.{k}": -1}, 0))
    dims: dict[str, list[str]] = {}
    for g in seen["disproportionality"]["groups"]:
        dims.setdefault(g["dimension"], []).append(
            cell(f"{g['dimension']}.{g['group']}", g["incidents"])
        )
    for names in dims.values():
        equations.append(({n: 1 for n in names} | {total: -1}, 0))
    # Two records of one cell must agree; a cell shown in one place is known everywhere.
    leaked = sorted(hidden & set(known))
    leaked += sorted(determined(equations, known) & hidden)
    return leaked


async def small_numbers(embedded, contexts) -> None:
    await embedded.pump()
    consume = make_consumer(contexts["reporting"])
    for urn, n in (("100001", 210), ("100002", 3), ("100003", 95), ("100004", 40)):
        await consume(
            envelope(
                "roll.updated.v1",
                roll(school=urn, total=n, sen_provision={"E": 2, "N": n - 2}),
                school=urn,
                subject=f"{urn}:2026",
            )
        )


async def lead_as_governor_shape(clients, token) -> dict[str, Any]:
    rep = clients["reporting"]
    h = auth(token("trust_lead"))
    seen: dict[str, Any] = {}
    for area in AREAS:
        seen[area] = (await rep.get(f"/v1/trusts/TR00001/{area}", headers=h)).json()
    for metric in ("incidents", "seclusion"):
        r = await rep.get(f"/v1/trusts/TR00001/trends?metric={metric}&interval=month", headers=h)
        seen[f"trends/{metric}"] = r.json()
    return seen


async def test_governor_never_sees_a_small_count_or_a_pupil(seeded, clients, token, embedded):
    await small_numbers(embedded, seeded)
    pupil_ids = set()
    for r in (
        await clients["incidents"].get("/v1/events?limit=1000", headers=auth(token("service")))
    ).json()["items"]:
        if "pupil" in r["payload"]:
            pupil_ids.add(r["payload"]["pupil"]["pupil_id"])
    assert pupil_ids
    for scope in (None, ["100003"]):
        seen = await governor_view(clients, token, scope)
        text = repr(seen)
        assert not any(p in text for p in pupil_ids)
        assert "DEMO-" not in text and "pupil_name" not in text
        for path, value in walk(seen):
            if isinstance(value, int) and not isinstance(value, bool):
                if path.endswith(("/vocabulary_version", "/suppression_threshold")):
                    continue
                assert not 1 <= value <= 4, (path, value)
        assert audit(seen) == []
        # Each setting type has 3 incidents here: no rate that would give the count back.
        for f in seen["outliers"]["funnels"]:
            if f["metric"] == "incidents":
                assert f["target_rate"] is None and f["expected"] is None
            else:  # no seclusion in some types: a zero is shown, it reveals nothing small
                assert f["target_rate"] in (None, 0.0)
        for row in seen["schools"]["schools"]:
            assert row["peer_rate"]["suppressed"]
    # The audit can fail: a lone withheld kind beside a shown total is recovered.
    lead_view = await lead_as_governor_shape(clients, token)
    lead_view["summary"]["incidents"]["seclusion"] = {"count": None, "suppressed": True}
    assert "trust.seclusion" in audit(lead_view)
    lead = (
        await clients["reporting"].get(
            "/v1/trusts/TR00001/summary", headers=auth(token("trust_lead"))
        )
    ).json()
    assert lead["incidents"]["total"]["count"] == 12  # the lead sees what was withheld


def test_secondary_suppression_hides_enough() -> None:
    cells, total = suppress_group([6, 2, 0, 9], 17, 4)
    hidden = [c.count is None for c in cells]
    assert hidden == [True, True, False, False]  # 2 alone would be 17 - 6 - 0 - 9
    assert total is not None and total.count == 17
    cells, total = suppress_group([3, 0], 3, 4)
    assert total is not None and total.suppressed and cells[0].suppressed
    cells, total = suppress_group([2, 2, 30], 34, 4)  # two small cells sum to 4: hide more
    assert [c.suppressed for c in cells] == [True, True, True]


async def test_peer_rates_and_report_parts_give_no_withheld_count_back(
    contexts, clients, token
) -> None:
    """Primary 100001 has 3 incidents; primary 100002 (40) is withheld beside it in every
    answer of the period (its own summary, trends and groups too), so neither a type's
    total nor a school's own answers give 100001 back. The primary rate (with its expected
    counts and limits) is withheld. 100002's 2 missed reports are withheld with another
    part of its row. Everything a governor receives, across scopes, is then solved for
    the hidden cells."""
    consume = make_consumer(contexts["reporting"])
    plan = {
        "100001": ("primary", 3, 300),
        "100002": ("primary", 40, 500),
        "100003": ("secondary", 10, 900),
        "100004": ("secondary", 30, 800),
    }
    events = []
    for urn, (setting, n, on_roll) in plan.items():
        events.append(
            envelope("roll.updated.v1", roll(school=urn, total=on_roll), school=urn, subject=urn)
        )
        for k in range(n):
            iid = f"i-{urn}-{k}"
            # Secondary seclusions: 2 at 100003 (withheld), 6 at 100004.
            secluded = k < {"100003": 2, "100004": 6}.get(urn, 0)
            events.append(
                envelope(
                    "incident.submitted.v1",
                    incident(
                        iid,
                        school=urn,
                        setting=setting,
                        pupil=f"p-{urn}-{k}",
                        kind="seclusion" if secluded else "physical_restraint",
                    ),
                    school=urn,
                    subject=iid,
                )
            )
            if urn == "100002":
                standard = "missed" if k < 2 else "met"
                events.append(
                    envelope(
                        "parent_report.completed.v1",
                        report_event("completed", f"r-{k}", iid, standard=standard),
                        school=urn,
                        producer="notifications",
                        subject=f"r-{k}",
                    )
                )
    for e in events:
        assert await consume(e)
    rep, h = clients["reporting"], auth(token("governor"))
    schools = (await rep.get("/v1/trusts/TR00001/schools", headers=h)).json()["schools"]
    funnels = (await rep.get("/v1/trusts/TR00001/outliers", headers=h)).json()["funnels"]
    summary = (await rep.get("/v1/trusts/TR00001/summary", headers=h)).json()
    row = {x["school_urn"]: x for x in schools}
    withheld = {u for u in plan if row[u]["incidents"]["suppressed"]}
    assert withheld == {"100001", "100002"}
    incident_funnels = [f for f in funnels if f["metric"] == "incidents"]
    for kind in ("primary", "secondary"):
        # A type's rate (and the expected counts and limits) only where its total is shown.
        typed = (await rep.get(f"/v1/trusts/TR00001/summary?setting_type={kind}", headers=h)).json()
        shown = not typed["incidents"]["total"]["suppressed"]
        for u in (u for u in plan if plan[u][0] == kind):
            assert row[u]["peer_rate"]["suppressed"] != shown
        for f in incident_funnels:
            if plan[f["school_urn"]][0] == kind:
                assert (f["target_rate"] is not None) == shown
    assert {f["school_urn"] for f in incident_funnels if f["position_99_8"]} == set(plan)
    pr = row["100002"]["parent_reports"]
    assert pr["missed"]["suppressed"]
    assert pr["met"]["suppressed"] or pr["withheld"]["suppressed"] or pr["reports"]["suppressed"]

    seen_ = Seen()
    known, hidden, equations, cell = seen_.known, seen_.hidden, seen_.equations, seen_.cell

    total = cell("total", summary["incidents"]["total"])
    equations.append(({cell(u, row[u]["incidents"]): 1 for u in plan} | {total: -1}, 0))
    trust_kinds = {k: cell(f"trust.{k}", summary["incidents"][k]) for k in KINDS}
    equations.append(({n: 1 for n in trust_kinds.values()} | {total: -1}, 0))
    for k in KINDS:
        equations.append(({f"{u}.{k}": 1 for u in plan} | {trust_kinds[k]: -1}, 0))
    for u in plan:
        cell(f"{u}.seclusion", row[u]["seclusion"])
    for f in funnels:
        name = f["school_urn"] if f["metric"] == "incidents" else f"{f['school_urn']}.seclusion"
        cell(name, f["observed"])
    for x in summary["schools"]:
        cell(x["school_urn"], x["incidents"])
    for kind in ("primary", "secondary"):
        members = [u for u in plan if plan[u][0] == kind]
        rate = next(row[u]["peer_rate"]["value"] for u in members)
        rolls_ = [row[u]["roll"]["count"] for u in members]
        if rate is not None and None not in rolls_:
            equations.append(({u: 1 for u in members}, round(rate * sum(rolls_) / 100)))
        # A type's own answer: its total, and its schools as every answer shows them.
        typed = (await rep.get(f"/v1/trusts/TR00001/summary?setting_type={kind}", headers=h)).json()
        for x in typed["schools"]:
            cell(x["school_urn"], x["incidents"])
        equations.append(
            ({u: 1 for u in members} | {cell(f"{kind}.total", typed["incidents"]["total"]): -1}, 0)
        )
        for k in KINDS:
            typed_k = cell(f"{kind}.{k}", typed["incidents"][k])
            equations.append(({f"{u}.{k}": 1 for u in members} | {typed_k: -1}, 0))
            # The kind's trend over the type: its intervals add up to the same total.
            points = (
                await rep.get(
                    f"/v1/trusts/TR00001/trends?setting_type={kind}&metric={k}&interval=term",
                    headers=h,
                )
            ).json()["points"]
            names = [cell(f"{kind}.{k}.{p['label']}", p["value"]) for p in points]
            equations.append(({n: 1 for n in names} | {typed_k: -1}, 0))
    for u in plan:
        # Each school's own answers: its total, its kinds, its weeks, its groups.
        own = (await rep.get(f"/v1/schools/{u}/summary", headers=h)).json()
        equations.append(({u: 1, cell(f"{u}.own", own["incidents"]["total"]): -1}, 0))
        kinds = [cell(f"{u}.{k}", own["incidents"][k]) for k in ("restraint", "seclusion", "other")]
        equations.append(({k: 1 for k in kinds} | {u: -1}, 0))
        weeks = (
            await rep.get(f"/v1/schools/{u}/trends?metric=incidents&interval=month", headers=h)
        ).json()["points"]
        names = [cell(f"{u}.week.{p['label']}", p["value"]) for p in weeks]
        equations.append(({n: 1 for n in names} | {u: -1}, 0))
        groups = (await rep.get(f"/v1/schools/{u}/disproportionality", headers=h)).json()
        by_dim: dict[str, list[str]] = {}
        for g in groups["groups"]:
            by_dim.setdefault(g["dimension"], []).append(
                cell(f"{u}.{g['dimension']}.{g['group']}", g["incidents"])
            )
        for names in by_dim.values():
            equations.append(({n: 1 for n in names} | {u: -1}, 0))
        p = row[u]["parent_reports"]
        parts = [cell(f"{u}.{k}", p[k]) for k in ("met", "missed", "withheld")]
        equations.append(({x: 1 for x in parts} | {cell(f"{u}.reports", p["reports"]): -1}, 0))
    assert hidden >= {"100001", "100002", "100001.own", "100002.own", "100002.missed"}
    assert {"100003.seclusion", "100004.seclusion"} <= hidden  # 2, and 6 beside it
    assert row["100002"]["parent_reports"]["reports"]["suppressed"]  # about 40: its incidents
    assert hidden & set(known) == set()
    assert determined(equations, known) & hidden == set()
