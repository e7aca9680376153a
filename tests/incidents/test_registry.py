"""The trust registry for MIS clients and trust leads: upserts by natural keys, with events."""

from __future__ import annotations

import pytest

from tests.incidents.helpers import intervention, make_incident, outbox_payloads, outbox_types
from tests.support.fixtures import auth

pytestmark = pytest.mark.usefixtures("seeded")

PUPIL = {
    "upn": "B801200005001",
    "legal_first_name": "Dana",
    "legal_last_name": "Okafor",
    "date_of_birth": "2015-03-04",
    "sen_provision": "K",
    "year_group": "6",
    "gender": "F",
    "fsm_eligible": True,
    "ethnicity": "BAFR",
    "handling_plan": {"techniques": ["Team Teach single elbow", "guide"]},
}


async def test_school_is_checked_and_its_setting_derived(clients, token, seeded) -> None:
    mis = auth(token("mis_client"))
    body = {
        "name": "Hillside Special",
        "laestab": "2017005",
        "establishment_type": "Academy special converter",
        "phase": "Secondary",
        "timezone": "Europe/London",
    }
    r = await clients["incidents"].put("/v1/schools/100005", json=body, headers=mis)
    assert r.status_code == 200, r.text
    assert r.json()["setting_type"] == "special"  # from the establishment type, not the phase
    assert (await outbox_types(seeded["incidents"], "100005")) == ["school.registered.v1"]
    again = await clients["incidents"].put("/v1/schools/100005", json=body, headers=mis)
    assert again.status_code == 200
    assert (await outbox_types(seeded["incidents"], "100005")) == ["school.registered.v1"]
    bad = await clients["incidents"].put(
        "/v1/schools/200005",
        json={**body, "laestab": "1017005", "timezone": "Mars/Olympus"},
        headers=mis,
    )
    assert bad.status_code == 422
    assert {e["pointer"] for e in bad.json()["errors"]} == {"#/path/urn", "/laestab", "/timezone"}
    scoped = await clients["incidents"].put(
        "/v1/schools/100006", json=body, headers=auth(token("mis_client", schools=["100001"]))
    )
    assert scoped.status_code == 404
    assert (
        await clients["incidents"].put(
            "/v1/schools/100006", json=body, headers=auth(token("recorder"))
        )
    ).status_code == 403


@pytest.mark.parametrize(
    ("upn", "status", "stored"),
    [
        ("B801200005001", 200, "B801200005001"),
        ("b801200005001", 200, "B801200005001"),
        ("A801200005001", 422, None),
        ("B80120000500", 422, None),
    ],
)
async def test_pupil_upn_checked(clients, token, upn, status, stored) -> None:
    r = await clients["incidents"].put(
        "/v1/schools/100001/pupils/NEW-1",
        json={**PUPIL, "upn": upn},
        headers=auth(token("mis_client")),
    )
    assert r.status_code == status, r.text
    if stored:
        assert r.json()["upn"] == stored
    else:
        assert [e["pointer"] for e in r.json()["errors"]] == ["/upn"]


async def test_pupil_upsert_emits_once_and_maps_handling_plan(clients, token, seeded) -> None:
    mis = auth(token("mis_client"))
    r = await clients["incidents"].put("/v1/schools/100001/pupils/NEW-2", json=PUPIL, headers=mis)
    assert r.status_code == 200, r.text
    pid = r.json()["pupil_id"]
    assert r.json()["handling_plan"] == ["guide", "single_elbow"]
    await clients["incidents"].put("/v1/schools/100001/pupils/NEW-2", json=PUPIL, headers=mis)
    assert await outbox_types(seeded["incidents"], pid) == ["pupil.updated.v1"]
    changed = await clients["incidents"].put(
        "/v1/schools/100001/pupils/NEW-2", json={**PUPIL, "sen_provision": "E"}, headers=mis
    )
    assert changed.json()["sen_provision"] == "E"
    assert await outbox_types(seeded["incidents"], pid) == ["pupil.updated.v1"] * 2
    bad = await clients["incidents"].put(
        "/v1/schools/100001/pupils/NEW-3",
        json={
            **PUPIL,
            "year_group": "15",
            "ethnicity": "XXXX",
            "handling_plan": {"techniques": ["squeeze"]},
        },
        headers=mis,
    )
    assert {e["pointer"] for e in bad.json()["errors"]} == {
        "/year_group",
        "/ethnicity",
        "/handling_plan/techniques/0",
    }
    other = await clients["incidents"].put(
        "/v1/schools/100001/pupils/NEW-2",
        json=PUPIL,
        headers=auth(token("mis_client", trust="TR00002")),
    )
    assert other.status_code == 404
    governor = await clients["incidents"].get(
        "/v1/schools/100001/pupils/NEW-2", headers=auth(token("governor"))
    )
    assert governor.status_code == 403


async def test_staff_and_training_then_an_incident_by_them(clients, token, seeded) -> None:
    mis = auth(token("mis_client"))
    staff = {
        "name": "Mr Lee Grant",
        "role": "Teacher",
        "email": "lee@schools.example.org",
        "training": [
            {
                "provider": "Team Teach",
                "course": "Level 2",
                "techniques": ["Team Teach single elbow", "escort"],
                "completed_date": "2026-01-10",
                "expiry_date": "2029-01-09",
            }
        ],
    }
    r = await clients["incidents"].put("/v1/schools/100001/staff/STF-1900", json=staff, headers=mis)
    assert r.status_code == 200, r.text
    assert r.json()["training"][0]["techniques"] == ["guide", "single_elbow"]
    assert await outbox_types(seeded["incidents"], "STF-1900") == [
        "staff.updated.v1",
        "training.recorded.v1",
    ]
    inc = await clients["incidents"].post(
        "/v1/incidents",
        json=make_incident(interventions=[intervention(staff=["STF-1900"])]),
        headers=mis,
    )
    assert inc.status_code == 201, inc.text
    assert inc.json()["interventions"][0]["staff"][0]["training_in_date"] is True
    bad = await clients["incidents"].put(
        "/v1/schools/100001/staff/STF-1901",
        json={
            **staff,
            "training": [
                {**staff["training"][0], "expiry_date": "2025-01-01", "techniques": ["nope"]}
            ],
        },
        headers=mis,
    )
    assert {e["pointer"] for e in bad.json()["errors"]} == {
        "/training/0/expiry_date",
        "/training/0/techniques/0",
    }


async def test_staff_who_never_intervene_need_no_training(clients, token, seeded) -> None:
    mis = auth(token("mis_client"))
    office = {"name": "Ms Ada Roe", "role": "Office manager", "requires_training": False}
    r = await clients["incidents"].put(
        "/v1/schools/100001/staff/STF-1950", json=office, headers=mis
    )
    assert r.status_code == 200, r.text
    r = await clients["incidents"].put(
        "/v1/schools/100001/staff/STF-1951", json={"name": "Mr Bo Lin"}, headers=mis
    )
    assert r.status_code == 200, r.text
    sent = await outbox_payloads(seeded["incidents"], "staff.updated.v1", "STF-1950")
    default = await outbox_payloads(seeded["incidents"], "staff.updated.v1", "STF-1951")
    assert [p["requires_training"] for p in sent + default] == [False, True]
    bad = await clients["incidents"].put(
        "/v1/schools/100001/staff/STF-1952",
        json={**office, "requires_training": "no"},
        headers=mis,
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/requires_training"


async def test_a_change_to_training_need_or_escalation_alone_is_sent_on(
    clients, token, seeded
) -> None:
    """Whether staff need training, and who is alerted, are kept: changing either alone
    sends staff.updated (reporting's coverage and notifications' escalation follow); the
    same body again sends nothing."""
    mis = auth(token("mis_client"))
    url = "/v1/schools/100001/staff/STF-1960"
    body = {"name": "Ms Cy Dee", "escalation_roles": ["head", "dsl"]}
    for change in ({}, {}, {"requires_training": False}, {"escalation_roles": []}):
        body = {**body, **change}
        r = await clients["incidents"].put(url, json=body, headers=mis)
        assert r.status_code == 200, r.text
    sent = await outbox_payloads(seeded["incidents"], "staff.updated.v1", "STF-1960")
    assert [(p["requires_training"], p["escalation_roles"]) for p in sent] == [
        (True, ["head", "dsl"]),
        (False, ["head", "dsl"]),
        (False, []),
    ]
    got = (await clients["incidents"].get(url, headers=auth(token("school_lead")))).json()
    assert (got["requires_training"], got["escalation_roles"]) == (False, [])


async def test_roll_counts_checked(clients, token, seeded) -> None:
    mis = auth(token("mis_client"))
    body = {
        "total": 210,
        "counts": {
            "sen_provision": {"N": 180, "K": 25, "E": 5},
            "fsm_eligible": {"true": 40, "false": 170},
        },
    }
    r = await clients["incidents"].put("/v1/schools/100001/rolls/2026-27", json=body, headers=mis)
    assert r.status_code == 200 and r.json()["academic_year"] == "2026/27"
    assert await outbox_types(seeded["incidents"], "100001:2026/27") == ["roll.updated.v1"]
    bad = await clients["incidents"].put(
        "/v1/schools/100001/rolls/2026-28",
        json={"total": 10, "counts": {"gender": {"M": 8, "F": 8}}},
        headers=mis,
    )
    assert {e["pointer"] for e in bad.json()["errors"]} == {
        "#/path/academic_year",
        "/counts/gender",
    }


async def test_settings_override_drives_the_rules(clients, token, seeded) -> None:
    lead = auth(token("trust_lead"))
    r = await clients["incidents"].put(
        "/v1/trust/settings", json={"ground_restraint_limit_minutes": 5}, headers=lead
    )
    assert r.status_code == 200 and r.json()["ground_restraint_limit_minutes"] == 5
    r = await clients["incidents"].put(
        "/v1/schools/100001/settings", json={"ground_restraint_limit_minutes": 1}, headers=lead
    )
    assert r.json()["ground_restraint_limit_minutes"] == 1
    assert "trust.settings_changed.v1" in await outbox_types(seeded["incidents"], "100001")
    assert (
        await clients["incidents"].put(
            "/v1/trust/settings", json={}, headers=auth(token("mis_client"))
        )
    ).status_code == 403
    ground = intervention(
        type="restraint",
        technique="single_elbow",
        position="ground_supine",
        started_at="2026-11-27T10:05:00+00:00",
        ended_at="2026-11-27T10:07:00+00:00",
    )
    inc = await clients["incidents"].post(
        "/v1/incidents",
        json=make_incident(intervention_type="restraint", interventions=[ground]),
        headers=lead,
    )
    assert inc.status_code == 201, inc.text
    assert "ground_restraint_over_limit" in {f["code"] for f in inc.json()["flags"]}


async def test_school_audit_by_trust_leads(clients, token, seeded) -> None:
    answers = {
        "policy_in_place": True,
        "parents_told_how": "Phone call, then a letter",
        "seclusion_named_as": "time out",
        "training_bought": ["Team Teach"],
        "data_reaches_governors": False,
        "post_incident_review": True,
        "no_contact_policy": False,
    }
    r = await clients["incidents"].put(
        "/v1/schools/100002/audit", json=answers, headers=auth(token("trust_lead"))
    )
    assert r.status_code == 200
    assert (await outbox_types(seeded["incidents"], "100002"))[-1] == "school.audit_recorded.v1"
    no = await clients["incidents"].put(
        "/v1/schools/100002/audit", json=answers, headers=auth(token("school_lead"))
    )
    assert no.status_code == 403


async def test_vocabulary_mapping_gaps_retirement_and_versions(clients, token, seeded) -> None:
    lead, recorder = auth(token("trust_lead")), auth(token("recorder"))
    body = make_incident(
        intervention_type="cool-off room", interventions=[intervention(type="cool-off room")]
    )
    refused = await clients["incidents"].post("/v1/incidents", json=body, headers=recorder)
    assert refused.status_code == 422
    assert {"/intervention_type", "/interventions/0/type"} <= {
        e["pointer"] for e in refused.json()["errors"]
    }
    gaps = (await clients["incidents"].get("/v1/vocabulary/unmapped", headers=lead)).json()
    assert [(g["scope"], g["kind"], g["label"]) for g in gaps] == [
        ("100001", "intervention_type", "cool-off room")
    ]

    m = await clients["incidents"].put(
        "/v1/vocabulary/labels",
        json={
            "scope": "100001",
            "kind": "intervention_type",
            "label": "Cool-off Room",
            "code": "seclusion",
        },
        headers=lead,
    )
    assert m.status_code == 200, m.text
    assert (await clients["incidents"].get("/v1/vocabulary/unmapped", headers=lead)).json() == []
    published = await clients["incidents"].post("/v1/vocabulary/publish", headers=lead)
    assert published.json() == {"version": 2}
    assert "vocabulary.published.v1" in await outbox_types(seeded["incidents"], "TR00001")
    ok = await clients["incidents"].post("/v1/incidents", json=body, headers=recorder)
    assert ok.status_code == 201, ok.text
    assert (ok.json()["intervention_type"], ok.json()["vocabulary_version"]) == ("seclusion", 2)

    retired = await clients["incidents"].post(
        "/v1/vocabulary/labels/retire",
        json={"scope": "100001", "kind": "intervention_type", "label": "cool-off room"},
        headers=lead,
    )
    assert retired.status_code == 204
    labels = (await clients["incidents"].get("/v1/vocabulary/labels", headers=lead)).json()
    kept = [x for x in labels if x["label"] == "cool-off room"]
    assert kept and kept[0]["retired_at"] is not None  # retired, never deleted
    again = await clients["incidents"].post(
        "/v1/incidents",
        json=make_incident(
            intervention_type="cool-off room", interventions=[intervention(type="cool-off room")]
        ),
        headers=recorder,
    )
    assert again.status_code == 422
    bad = await clients["incidents"].put(
        "/v1/vocabulary/labels",
        json={"kind": "technique", "label": "squeeze", "code": "squeeze"},
        headers=lead,
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["pointer"] == "/code"


async def test_a_new_trust_registers_itself_and_its_schools(clients, token) -> None:
    lead = auth(token("trust_lead", trust="TR00042"))
    r = await clients["incidents"].put(
        "/v1/trust", json={"name": "Northern Star Trust"}, headers=lead
    )
    assert r.status_code == 200 and r.json() == {
        "trust_id": "TR00042",
        "name": "Northern Star Trust",
        "vocabulary_version": 1,
    }
    school = {"name": "Star Primary", "establishment_type": "Academy converter", "phase": "Primary"}
    assert (
        await clients["incidents"].put("/v1/schools/142001", json=school, headers=lead)
    ).status_code == 200
    mine = await clients["incidents"].get("/v1/schools", headers=lead)
    assert [s["urn"] for s in mine.json()] == ["142001"]
    renamed = await clients["incidents"].put("/v1/trust", json={"name": "North Star"}, headers=lead)
    assert renamed.json()["name"] == "North Star"
    demo = await clients["incidents"].get("/v1/schools", headers=auth(token("trust_lead")))
    assert "142001" not in [s["urn"] for s in demo.json()]


async def test_amendment_cannot_move_a_record_to_another_key(clients, token) -> None:
    lead = auth(token("trust_lead"))
    a = (
        await clients["incidents"].post("/v1/incidents", json=make_incident(), headers=lead)
    ).json()
    b = (
        await clients["incidents"].post("/v1/incidents", json=make_incident(), headers=lead)
    ).json()
    r = await clients["incidents"].post(
        f"/v1/incidents/{b['incident_id']}/amendments",
        json={"reason": "x", "changes": {"source_id": a["source_id"], "school_urn": "100002"}},
        headers={**lead, "If-Match": '"1"'},
    )
    assert r.status_code == 422
    assert {e["pointer"] for e in r.json()["errors"]} == {"/source_id", "/school_urn"}


async def test_provider_hold_name_brings_position_and_staff_count(clients, token) -> None:
    lead = auth(token("trust_lead"))
    m = await clients["incidents"].put(
        "/v1/vocabulary/labels",
        json={
            "kind": "technique",
            "label": "PRICE two-person seated hold",
            "code": "seated_wrap",
            "position": "seated",
            "staff_count": 2,
        },
        headers=lead,
    )
    assert m.status_code == 200, m.text
    assert m.json()["attributes"] == {"position": "seated", "staff_count": 2}
    hold = intervention(type="restraint", technique="PRICE two-person seated hold", position=None)
    r = await clients["incidents"].post(
        "/v1/incidents",
        json=make_incident(intervention_type="restraint", interventions=[hold]),
        headers=lead,
    )
    assert r.status_code == 201, r.text
    iv = r.json()["interventions"][0]
    assert (iv["technique"], iv["position"], iv["technique_staff_count"]) == (
        "seated_wrap",
        "seated",
        2,
    )
    assert "technique_staff_count" in {f["code"] for f in r.json()["flags"]}  # one member of staff
    wrong = await clients["incidents"].put(
        "/v1/vocabulary/labels",
        json={"kind": "strategy", "label": "x", "code": "humour", "staff_count": 2},
        headers=lead,
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["pointer"] == "/staff_count"
