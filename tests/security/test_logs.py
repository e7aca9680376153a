"""No personal data in logs: an end-to-end run, every log record captured and searched."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from services.incidents import models as im
from services.incidents.schemas import EXAMPLE_INCIDENT
from services.notifications import models as nm
from shared.logging import QUIET_LOGGERS, JsonFormatter, configure_logging
from tests.support.fixtures import auth

pytestmark = pytest.mark.usefixtures("seeded")


async def personal_data(contexts) -> set[str]:
    """Every pupil name, parent name, email address and phone number the demo trust holds."""
    found: set[str] = set()
    async with contexts["incidents"].db.engine.connect() as conn:
        for row in await conn.execute(
            sa.select(im.pupil.c.legal_first_name, im.pupil.c.legal_last_name, im.pupil.c.upn)
        ):
            found.update(v for v in row if v)
            found.add(f"{row.legal_first_name} {row.legal_last_name}")
    async with contexts["notifications"].db.engine.connect() as conn:
        for row in await conn.execute(
            sa.select(nm.contact.c.name, nm.contact.c.email, nm.contact.c.mobile)
        ):
            found.update(v for v in row if v)
            if row.mobile:
                found.add(row.mobile.replace("+44", "0"))
                found.add(row.mobile[-10:])
    return found


def everything_logged(records: list[logging.LogRecord]) -> str:
    """Each record as raw as it gets (message, args, extras, traceback) and as formatted."""
    formatter = JsonFormatter("test")
    plain = logging.Formatter()
    parts = []
    for record in records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        parts.append(repr(vars(record)))
        if record.exc_info:
            parts.append(plain.formatException(record.exc_info))
        parts.append(formatter.format(record))
    return "\n".join(parts)


async def test_an_end_to_end_run_logs_no_personal_data(
    clients, token, embedded, contexts, caplog, monkeypatch
) -> None:
    # The production set-up at its most verbose level, with pytest's capture added to it.
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    levels = {n: logging.getLogger(n).level for n in ("", *QUIET_LOGGERS, "uvicorn.access")}
    configure_logging("DEBUG")
    root.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.DEBUG)
    try:
        await run_and_search(clients, token, embedded, contexts, caplog)
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


async def run_and_search(clients, token, embedded, contexts, caplog) -> None:
    """The thin path, reads, failures; then search everything logged."""
    await embedded.pump()
    recorder, lead = auth(token("recorder")), auth(token("trust_lead"))
    r = await clients["incidents"].post("/v1/incidents", json=EXAMPLE_INCIDENT, headers=recorder)
    assert r.status_code == 201
    iid = r.json()["incident_id"]
    await embedded.pump()
    for svc, path in (
        ("incidents", f"/v1/incidents/{iid}"),
        ("incidents", "/v1/incidents"),
        ("incidents", "/v1/events"),
        ("notifications", f"/v1/incidents/{iid}/parent-reports"),
        ("notifications", "/v1/events"),
        ("reporting", "/v1/trusts/TR00001/summary"),
    ):
        assert (await clients[svc].get(path, headers=lead)).status_code == 200, path
    # Failures log too: a bad submission, a bad token.
    await clients["incidents"].post(
        "/v1/incidents", json=dict(EXAMPLE_INCIDENT, pupil_ref="NOPE"), headers=recorder
    )
    await clients["incidents"].get("/v1/incidents", headers=auth("x.y.z"))

    text = everything_logged(caplog.records)
    assert "message handed to provider" in text  # the run did log: the search means something
    secrets = await personal_data(contexts)
    assert len(secrets) > 20
    leaked = sorted(s for s in secrets if s and s in text)
    assert leaked == []
    assert not re.search(r"[\w.+-]+@parents\.example\.org", text)
    assert not re.search(r"\+?44\s?7700\s?900\d{3}|07700\s?900\d{3}", text)
