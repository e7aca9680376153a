"""On the demo trust with the default seed, the reports single out exactly the planted patterns."""

from __future__ import annotations

import pytest

from services import demo_data, demo_seed
from tests.support.fixtures import auth

PLANTED = {
    "140005": {"incidents_below_99.8", "injuries_with_few_incidents"},  # under-reporting
    "140008": {"seclusion_above_99.8"},  # seclusion-heavy
    "140001": {"late_parent_reports"},  # late parent reports
    "140004": {"rising_staff_injuries"},  # rising staff injuries
}


@pytest.fixture
async def demo(contexts, embedded):
    counts = await demo_seed.seed_generated(contexts["incidents"], contexts["notifications"])
    assert counts is not None and counts["incidents"] > 1000
    await embedded.pump()
    assert embedded.messages() == []  # historic: no parent is messaged
    return counts


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_default_seed_singles_out_exactly_the_planted_patterns(demo, clients, token):
    rep = clients["reporting"]
    lead = auth(token("trust_lead"))
    for year in ("2026/27", "2025/26"):
        r = await rep.get(f"/v1/trusts/TR00001/outliers?academic_year={year}", headers=lead)
        assert r.status_code == 200
        found: dict[str, set[str]] = {}
        for s in r.json()["signals"]:
            found.setdefault(s["school_urn"], set()).add(s["signal"])
        expected = dict(PLANTED)
        if year == "2025/26":
            expected.pop("140004")  # staff injuries rise in the current year
        # The under-reporting school under-records every kind, seclusion included.
        found.get("140005", set()).discard("seclusion_below_99.8")
        assert found == expected, year
        outside = {f["school_urn"] for f in r.json()["funnels"] if f["position_99_8"] != "within"}
        assert outside == {"140005", "140008"}
    d = (await rep.get("/v1/trusts/TR00001/disproportionality", headers=lead)).json()
    significant = {(g["dimension"], g["group"]) for g in d["groups"] if g["significant"]}
    assert {("sen", "E"), ("sen", "K")} <= significant
    assert {dim for dim, _ in significant} == {"sen"}
    assert {s.planted for s in demo_data.schools(12, __import__("random").Random(1))} >= {
        "under_reporting",
        "seclusion_heavy",
        "late_parent_reports",
        "rising_staff_injuries",
    }
