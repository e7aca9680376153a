"""The incident events' payloads, built from a stored record and its registry rows."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection

from services.incidents import models as m
from services.incidents.record import duration_minutes
from services.incidents.rules import highest
from services.incidents.vocabulary import is_significant
from shared.events.payloads import (
    FlagFacts,
    IncidentFacts,
    IncidentSubmittedV1,
    ParentReportInstruction,
    PracticeFlaggedV1,
    PupilCharacteristics,
    RecordFacts,
    ReportContent,
    ReportIntervention,
    SchoolRef,
)
from shared.events.registry import event_type
from shared.outbox.writer import record_event


def age_on(born: date | None, on: date) -> int | None:
    """Whole years of age on a date."""
    if born is None:
        return None
    if not isinstance(born, date):
        born = date.fromisoformat(str(born))
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _interventions(sections: dict[str, Any] | None) -> list[ReportIntervention]:
    return [
        ReportIntervention(
            type=iv["type"],
            technique=iv.get("technique"),
            position=iv.get("position"),
            started_at=datetime.fromisoformat(iv["started_at"]),
            ended_at=datetime.fromisoformat(iv["ended_at"]),
            duration_minutes=iv["duration_minutes"],
            staff_count=len(iv.get("staff") or []),
        )
        for iv in (sections or {}).get("interventions") or []
    ]


def incident_payload(
    values: dict[str, Any], school: sa.Row, pupil: sa.Row, status: str = "submitted"
) -> IncidentSubmittedV1:
    """What notifications and reporting need, each in its own field; names only in ``report``."""
    sections = values.get("record")
    flags = values.get("flags") or []
    local_date = date.fromisoformat(values["local_date"])
    age = age_on(pupil.date_of_birth, local_date)
    ivs = _interventions(sections)
    record = report_extra = parent = None
    if sections:
        injuries = sections.get("injuries") or []
        risk = sections.get("risk") or {}
        test = sections.get("decision_test") or {}
        record = RecordFacts(
            planned=sections.get("planned"),
            risk_to=list(risk.get("to") or []),
            risk_severity=risk.get("severity"),
            strategies=[s["code"] for s in sections.get("strategies") or [] if s.get("code")],
            interventions=ivs,
            injury_count=len(injuries),
            pupil_injured=any(i.get("person") == "pupil" for i in injuries),
            staff_injured=any(i.get("person") == "staff" for i in injuries),
            riddor_reportable=any(i.get("riddor_reportable") for i in injuries),
            medical_check=(sections.get("welfare") or {}).get("medical_check"),
            staff_refs=sorted(
                {
                    s["staff_ref"]
                    for iv in sections.get("interventions") or []
                    for s in iv.get("staff") or []
                    if s.get("staff_ref")
                }
            ),
            staff_injury_count=sum(1 for i in injuries if i.get("person") == "staff"),
        )
        report_extra = {
            "location": sections.get("location"),
            "reason": risk.get("presented") or (test.get("necessity") or {}).get("reason"),
            "interventions": ivs,
            "injuries": [
                f"{i.get('description')} ({i.get('treatment')})"
                for i in injuries
                if i.get("person") == "pupil"
            ],
            "support_offered": (sections.get("aftercare") or {}).get("support_offered"),
        }
        pr = sections.get("parent_report") or {}
        parent = ParentReportInstruction(
            required=not (age is not None and age >= 20),
            already_told_in_writing=bool(pr.get("already_told_in_writing")),
            told_at=pr.get("told_at"),
            told_how=pr.get("told_how"),
            told_by=pr.get("told_by"),
            safeguarding_hold=bool(pr.get("safeguarding_hold")),
            hold_reason=pr.get("hold_reason"),
        )
    return IncidentSubmittedV1(
        incident=IncidentFacts(
            incident_id=values["incident_id"],
            revision=values["revision"],
            status=status,  # type: ignore[arg-type]
            occurred_at=values["occurred_at"],
            ended_at=values["ended_at"],
            duration_minutes=duration_minutes(values["occurred_at"], values["ended_at"]),
            local_date=values["local_date"],
            intervention_type=values["intervention_type"],
            intervention_label=values["intervention_label"],
            vocabulary_version=values["vocabulary_version"],
            significant=is_significant(values["intervention_type"]),
            historic=values["historic"],
            recorded_at=values["recorded_at"],
            source_system=values["source_system"],
        ),
        pupil=PupilCharacteristics(
            pupil_id=pupil.pupil_id,
            sen_provision=pupil.sen_provision,
            year_group=pupil.year_group,
            gender=pupil.gender,
            fsm_eligible=pupil.fsm_eligible,
            ethnicity=pupil.ethnicity,
            age_years=age,
            fsm_ever6=getattr(pupil, "fsm_ever6", None),
        ),
        school=SchoolRef(
            urn=school.urn,
            name=school.name,
            timezone=school.timezone,
            setting_type=school.setting_type,
            phone=school.phone,
            email=school.email,
        ),
        report=ReportContent(
            pupil_name=pupil.preferred_name or pupil.legal_first_name,
            summary=values["summary"],
            **(report_extra or {}),
        ),
        record=record,
        flags=[FlagFacts(**f) for f in flags],
        parent_report=parent,
    )


def flags_payload(values: dict[str, Any], school: sa.Row) -> PracticeFlaggedV1 | None:
    """``practice.flagged.v1`` for a record with any flag, at its highest severity."""
    flags = values.get("flags") or []
    severity = highest(flags)
    if severity is None:
        return None
    return PracticeFlaggedV1(
        incident_id=values["incident_id"],
        revision=values["revision"],
        pupil_id=values["pupil_id"],
        occurred_at=values["occurred_at"],
        local_date=values["local_date"],
        setting_type=school.setting_type,
        severity=severity,  # type: ignore[arg-type]
        flags=[FlagFacts(**f) for f in flags],
        historic=values["historic"],
    )


def outbox_row(
    type: str, values: dict[str, Any], payload: BaseModel, occurred_at: datetime
) -> dict[str, Any]:
    """An outbox row about an incident, checked against its registered type (for batches)."""
    checked = event_type(type).model_validate(payload.model_dump(mode="json"))
    return {
        "event_id": uuid.uuid4(),
        "type": type,
        "trust_id": values["trust_id"],
        "school_urn": values["school_urn"],
        "subject_id": values["incident_id"],
        "subject_revision": values["revision"],
        "occurred_at": occurred_at,
        "payload": checked.model_dump(mode="json"),
    }


async def emit_flags(
    conn: AsyncConnection, values: dict[str, Any], school: sa.Row, occurred_at: datetime
) -> None:
    """Emit ``practice.flagged.v1`` when the record carries any flag."""
    payload = flags_payload(values, school)
    if payload is None:
        return
    await record_event(
        conn,
        m.outbox,
        type="practice.flagged.v1",
        trust_id=values["trust_id"],
        school_urn=values["school_urn"],
        subject_id=values["incident_id"],
        subject_revision=values["revision"],
        occurred_at=occurred_at,
        payload=payload,
    )
