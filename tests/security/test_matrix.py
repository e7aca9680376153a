"""The role matrix: every operation of every service against every role, from a table.

The table says, route by route, which roles may use it (DESIGN §5 and each route's
docstring): a role outside the set gets 403 problem+json, a role inside it gets past
authorisation (anything but 401 or 403). A route missing from the table, or a table entry
naming a route that no longer exists, fails the test: a new route is placed here on purpose.
"""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from shared.auth.principal import ROLES
from tests.support.fixtures import auth
from tests.support.routes import RouteInfo, inventory

# A trust portal whose client was granted pupil-level reads (DESIGN §5: "trust_lead reads
# when its scope says so"); plain "portal_client" has governor rights only. Today the scope
# opens the change feeds (record by record) beside the reports; the record routes admit no
# portal at all, so a portal reads records through the feed.
SCOPED_PORTAL = "portal_client+pupil:read"
EVERY_ROLE = (*ROLES, SCOPED_PORTAL)

# Staff of a school (or its MIS acting for them) who record incidents and read them.
RECORDING = frozenset({"recorder", "school_lead", "dsl", "trust_lead", "mis_client"})
LEADS = frozenset({"school_lead", "dsl", "trust_lead"})
TRUST_LEAD = frozenset({"trust_lead"})
# Registry upserts: the MIS keeps schools, pupils, staff and rolls in step; a trust lead may too.
REGISTRAR = frozenset({"mis_client", "trust_lead"})
# The change feed is record by record: pupil-level readers and Candour's own services.
FEED = frozenset({"trust_lead", "service", "mis_client", SCOPED_PORTAL})
# Aggregates with small numbers suppressed: governors and portals too; not recorders or MIS.
REPORTS = frozenset(
    {"trust_lead", "school_lead", "dsl", "governor", "portal_client", SCOPED_PORTAL, "service"}
)

TABLE: dict[tuple[str, str, str], frozenset[str]] = {
    # incidents: the trust registry, machine clients, the audit trail
    ("incidents", "GET", "/v1/audit"): TRUST_LEAD,
    ("incidents", "GET", "/v1/clients"): TRUST_LEAD,
    ("incidents", "POST", "/v1/clients"): TRUST_LEAD,
    ("incidents", "GET", "/v1/clients/{client_id}"): TRUST_LEAD,
    ("incidents", "POST", "/v1/clients/{client_id}/revoke"): TRUST_LEAD,
    ("incidents", "POST", "/v1/clients/{client_id}/rotate-secret"): TRUST_LEAD,
    ("incidents", "GET", "/v1/events"): FEED,
    # incidents: recording, reading, the record's lifecycle
    ("incidents", "GET", "/v1/incidents"): RECORDING,
    ("incidents", "POST", "/v1/incidents"): RECORDING,
    ("incidents", "POST", "/v1/incidents/bulk"): REGISTRAR,
    ("incidents", "GET", "/v1/incidents/drafts"): RECORDING,
    ("incidents", "GET", "/v1/incidents/{incident_id}"): RECORDING,
    ("incidents", "POST", "/v1/incidents/{incident_id}/amendments"): LEADS,
    ("incidents", "POST", "/v1/incidents/{incident_id}/close"): LEADS,
    ("incidents", "PUT", "/v1/incidents/{incident_id}/draft"): RECORDING,
    ("incidents", "POST", "/v1/incidents/{incident_id}/review"): frozenset({"school_lead", "dsl"}),
    ("incidents", "GET", "/v1/incidents/{incident_id}/revisions"): RECORDING,
    ("incidents", "GET", "/v1/incidents/{incident_id}/revisions/{revision}"): RECORDING,
    ("incidents", "POST", "/v1/incidents/{incident_id}/submit"): RECORDING,
    ("incidents", "GET", "/v1/pupils/{pupil_id}/file"): LEADS,
    ("incidents", "GET", "/v1/schools"): RECORDING,
    ("incidents", "PUT", "/v1/schools/{urn}"): REGISTRAR,
    ("incidents", "PUT", "/v1/schools/{urn}/audit"): TRUST_LEAD,
    ("incidents", "GET", "/v1/schools/{urn}/pupils/{mis_ref}"): RECORDING,
    ("incidents", "PUT", "/v1/schools/{urn}/pupils/{mis_ref}"): REGISTRAR,
    ("incidents", "PUT", "/v1/schools/{urn}/rolls/{academic_year}"): REGISTRAR,
    ("incidents", "PUT", "/v1/schools/{urn}/settings"): TRUST_LEAD,
    ("incidents", "GET", "/v1/schools/{urn}/staff/{staff_ref}"): RECORDING,
    ("incidents", "PUT", "/v1/schools/{urn}/staff/{staff_ref}"): REGISTRAR,
    ("incidents", "PUT", "/v1/trust"): TRUST_LEAD,
    ("incidents", "PUT", "/v1/trust/settings"): TRUST_LEAD,
    # incidents: the trust's vocabulary (recorders read it to fill in the form)
    ("incidents", "GET", "/v1/vocabulary"): RECORDING,
    ("incidents", "GET", "/v1/vocabulary/labels"): TRUST_LEAD,
    ("incidents", "PUT", "/v1/vocabulary/labels"): TRUST_LEAD,
    ("incidents", "POST", "/v1/vocabulary/labels/retire"): TRUST_LEAD,
    ("incidents", "POST", "/v1/vocabulary/publish"): TRUST_LEAD,
    ("incidents", "GET", "/v1/vocabulary/unmapped"): TRUST_LEAD,
    # notifications: parent reports and the contacts they go to
    ("notifications", "GET", "/v1/events"): FEED,
    ("notifications", "GET", "/v1/incidents/{incident_id}/parent-reports"): RECORDING,
    ("notifications", "GET", "/v1/parent-reports/{report_id}"): RECORDING,
    ("notifications", "POST", "/v1/parent-reports/{report_id}/approve"): LEADS,
    ("notifications", "POST", "/v1/parent-reports/{report_id}/contacts"): LEADS | {"recorder"},
    ("notifications", "POST", "/v1/parent-reports/{report_id}/local-authority-notification"): (
        LEADS
    ),
    # Safeguarding decisions (hold, release, withhold) belong to the DSL alone.
    ("notifications", "POST", "/v1/parent-reports/{report_id}/release"): frozenset({"dsl"}),
    ("notifications", "POST", "/v1/parent-reports/{report_id}/resend"): LEADS,
    ("notifications", "POST", "/v1/parent-reports/{report_id}/withhold"): frozenset({"dsl"}),
    ("notifications", "GET", "/v1/pupils/{pupil_id}/contacts"): RECORDING,
    ("notifications", "PUT", "/v1/pupils/{pupil_id}/contacts/{contact_id}"): LEADS | {"mis_client"},
    ("notifications", "GET", "/v1/schools/{urn}/escalation-contacts"): LEADS,
    ("notifications", "PUT", "/v1/schools/{urn}/escalation-contacts/{role}/{staff_id}"): LEADS
    | {"mis_client"},
    ("notifications", "GET", "/v1/schools/{urn}/parent-report-settings"): LEADS,
    ("notifications", "PUT", "/v1/schools/{urn}/parent-report-settings"): LEADS,
    ("notifications", "GET", "/v1/schools/{urn}/parent-reports"): RECORDING,
    ("notifications", "PUT", "/v1/schools/{urn}/templates/{name}"): frozenset(
        {"school_lead", "trust_lead"}
    ),
    ("notifications", "PUT", "/v1/trusts/{trust_id}/escalation-contacts/{staff_id}"): TRUST_LEAD,
    ("notifications", "PUT", "/v1/trusts/{trust_id}/parent-report-settings"): TRUST_LEAD,
    ("notifications", "PUT", "/v1/trusts/{trust_id}/templates/{name}"): TRUST_LEAD,
    # reporting: aggregates only
    **{
        ("reporting", "GET", f"/v1/schools/{{urn}}/{report}"): REPORTS
        for report in ("audit", "disproportionality", "summary", "training", "trends")
    },
    **{
        ("reporting", "GET", f"/v1/trusts/{{trust_id}}/{report}"): REPORTS
        for report in (
            "audit",
            "disproportionality",
            "outliers",
            "schools",
            "summary",
            "training",
            "trends",
        )
    },
}
UNDOCUMENTED = {"/metrics"}


def _operations(apps: dict[str, FastAPI]) -> dict[tuple[str, str, str], RouteInfo]:
    return {
        (r.service, r.method, r.path): r
        for r in inventory(apps)
        if not r.public and r.path not in UNDOCUMENTED
    }


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_table_names_every_operation_and_no_other(apps) -> None:
    operations = set(_operations(apps))
    assert not operations - set(TABLE), f"not in the table: {sorted(operations - set(TABLE))}"
    assert not set(TABLE) - operations, f"no such route: {sorted(set(TABLE) - operations)}"
    assert all(roles <= set(EVERY_ROLE) for roles in TABLE.values())


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_every_role_against_every_route(apps, clients, token) -> None:
    tokens = {role: token(role) for role in ROLES}
    tokens[SCOPED_PORTAL] = token("portal_client", scope="pupil:read")
    wrong: list[tuple[str, str, int]] = []
    for key, route in sorted(_operations(apps).items()):
        allowed = TABLE[key]
        path = route.sample_path()
        body = {} if route.has_body else None
        for role in EVERY_ROLE:
            r = await clients[key[0]].request(key[1], path, json=body, headers=auth(tokens[role]))
            assert r.status_code < 500, (key, role, r.text)
            if role in allowed:
                if r.status_code in (401, 403):
                    wrong.append((" ".join(key), role, r.status_code))
            elif r.status_code != 403 or (
                r.headers["content-type"] != "application/problem+json" or r.json()["status"] != 403
            ):
                wrong.append((" ".join(key), role, r.status_code))
    assert not wrong, "\n".join(map(str, wrong))
