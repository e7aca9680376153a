"""The reporting read model (its own database), rebuilt from events alone."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from shared.auth.revocation import add_revoked_client_table
from shared.db.types import UTCDateTime, metadata_for
from shared.outbox.tables import add_outbox_tables

metadata = metadata_for()

school = sa.Table(
    "school",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("urn", sa.String(6), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("setting_type", sa.String(40), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
)

# A pupil's characteristics as an incident record gives them (the pupil rollups' key).
CHARACTERISTICS = (
    "sen_provision",
    "year_group",
    "gender",
    "fsm_eligible",
    "fsm_ever6",
    "ethnicity",
)

incident_fact = sa.Table(
    "incident_fact",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("incident_id", sa.String(36), primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("setting_type", sa.String(40), nullable=False),
    sa.Column("pupil_id", sa.String(36), nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("local_date", sa.Date, nullable=False),
    sa.Column("intervention_type", sa.String(60), nullable=False),
    sa.Column("significant", sa.Boolean, nullable=False),
    sa.Column("historic", sa.Boolean, nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("sen_provision", sa.String(1), nullable=False),
    sa.Column("year_group", sa.String(2)),
    sa.Column("gender", sa.String(1)),
    sa.Column("fsm_eligible", sa.Boolean),
    sa.Column("ethnicity", sa.String(4)),
    sa.Column("fsm_ever6", sa.Boolean),
    sa.Column("intervention_label", sa.String(120)),
    sa.Column("vocabulary_version", sa.Integer),
    sa.Column("source", sa.String(64)),
    sa.Column("pupil_injured", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("staff_injuries", sa.Integer, nullable=False, server_default="0"),
    sa.Column("ground_restraint", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("voided", sa.Boolean, nullable=False, server_default=sa.false()),
    # Recorded after the end of the local day after the incident (DOMAIN §1: aim same day).
    sa.Column("recorded_late", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Index("ix_incident_fact_trust_id_local_date", "trust_id", "local_date"),
    # Counted incidents by date, with what per-pupil counts over days outside whole months
    # read (pupil, school, setting, characteristics): answered from the index alone.
    sa.Index(
        "ix_incident_fact_counted_trust_id_local_date",
        "trust_id",
        "local_date",
        postgresql_include=["school_urn", "setting_type", "pupil_id", *CHARACTERISTICS],
        postgresql_where=sa.text("significant AND NOT voided"),
        sqlite_where=sa.text("significant AND NOT voided"),
    ),
    sa.Index("ix_incident_fact_trust_id_pupil_id", "trust_id", "pupil_id"),
    sa.Index(
        "ix_incident_fact_trust_id_school_urn_local_date", "trust_id", "school_urn", "local_date"
    ),
)

parent_report_fact = sa.Table(
    "parent_report_fact",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("report_id", sa.String(36), primary_key=True),
    sa.Column("incident_id", sa.String(36), nullable=False),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("sent_at", UTCDateTime, nullable=False),
    sa.Column("incident_occurred_at", UTCDateTime, nullable=False),
    sa.Index("ix_parent_report_fact_trust_id_school_urn", "trust_id", "school_urn"),
    sa.Index("ix_parent_report_fact_trust_id_incident_id", "trust_id", "incident_id"),
)

# Machine clients whose tokens this service refuses (client.revoked.v1).
revoked_client = add_revoked_client_table(metadata)
# The latest revision applied per subject (pupil, staff, roll, settings, ...), so a late or
# repeated event never takes a projection back in time.
subject_version = sa.Table(
    "subject_version",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("subject_id", sa.String(80), primary_key=True),
    sa.Column("revision", sa.Integer, nullable=False),
)

trust_state = sa.Table(
    "trust_state",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("suppression_threshold", sa.Integer),
    sa.Column("term_dates", sa.JSON),
    sa.Column("vocabulary_version", sa.Integer),
    sa.Column("last_event_at", UTCDateTime),
)

incident_staff = sa.Table(
    "incident_staff",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("incident_id", sa.String(36), primary_key=True),
    sa.Column("staff_id", sa.String(36), primary_key=True),
    sa.Index("ix_incident_staff_trust_id_staff_id", "trust_id", "staff_id"),
)

incident_review = sa.Table(
    "incident_review",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("incident_id", sa.String(36), primary_key=True),
    sa.Column("reviewed_at", UTCDateTime, nullable=False),
    sa.Column("plan_changed", sa.Boolean, nullable=False),
)

practice_flag = sa.Table(
    "practice_flag",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("incident_id", sa.String(36), primary_key=True),
    sa.Column("practice", sa.String(60), primary_key=True),
    sa.Column("flagged_at", UTCDateTime, nullable=False),
)

pupil = sa.Table(
    "pupil",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("pupil_id", sa.String(36), primary_key=True),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("sen_provision", sa.String(1), nullable=False),
    sa.Column("year_group", sa.String(2)),
    sa.Column("gender", sa.String(1)),
    sa.Column("fsm_eligible", sa.Boolean),
    sa.Column("fsm_ever6", sa.Boolean),
    sa.Column("ethnicity", sa.String(4)),
)

staff = sa.Table(
    "staff",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("staff_id", sa.String(36), primary_key=True),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("requires_training", sa.Boolean, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
)

training_record = sa.Table(
    "training_record",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("training_id", sa.String(36), primary_key=True),
    sa.Column("staff_id", sa.String(36), nullable=False),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("provider", sa.String(60), nullable=False),
    sa.Column("completed_on", sa.Date, nullable=False),
    sa.Column("expires_on", sa.Date, nullable=False),
    sa.Index("ix_training_record_trust_id_staff_id", "trust_id", "staff_id"),
)

roll = sa.Table(
    "roll",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("school_urn", sa.String(6), primary_key=True),
    sa.Column("academic_year", sa.Integer, primary_key=True),
    sa.Column("dimension", sa.String(20), primary_key=True),
    sa.Column("group", sa.String(20), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)

school_audit = sa.Table(
    "school_audit",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("school_urn", sa.String(6), primary_key=True),
    sa.Column("item", sa.String(40), primary_key=True),
    sa.Column("answer", sa.String(200), nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
)

# One row per parent report (one parent), whatever order its events arrive in.
parent_report_status = sa.Table(
    "parent_report_status",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("report_id", sa.String(36), primary_key=True),
    sa.Column("incident_id", sa.String(36), nullable=False),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("incident_occurred_at", UTCDateTime),
    sa.Column("first_sent_at", UTCDateTime),
    sa.Column("first_delivered_at", UTCDateTime),
    sa.Column("outcome", sa.String(10)),
    sa.Column("completed_at", UTCDateTime),
    sa.Column("held", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("withheld", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("escalated", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    # The local date of its incident while that incident counts (else NULL), kept by the
    # rollups: delivery-time percentiles read the period's reports by this index alone.
    sa.Column("local_date", sa.Date),
    # Minutes from the incident to the first delivery, and their 15-minute bin (both NULL
    # until delivered), kept by the rollups: delivery-time percentiles find each rank's bin
    # in ``report_minutes`` and read only that bin's reports.
    sa.Column("delivery_minutes", sa.Float),
    sa.Column("delivery_bin", sa.Integer),
    sa.Index("ix_parent_report_status_trust_id_incident_id", "trust_id", "incident_id"),
    sa.Index(
        "ix_parent_report_status_trust_id_local_date",
        "trust_id",
        "local_date",
        "school_urn",
        postgresql_include=["delivery_bin"],
    ),
    sa.Index(
        "ix_parent_report_status_trust_id_school_urn_delivery_bin",
        "trust_id",
        "school_urn",
        "delivery_bin",
        "local_date",
        postgresql_include=["delivery_minutes"],
    ),
)


# Rollups kept by the projections (services/reporting/rollups.py), so that a report reads a
# few rows per school-day, not every fact. Each counted (significant, not voided) incident
# adds its share to one row of each; an amendment, a flag, a review, a parent report or a
# training record takes its old share away and adds the new one.
def _incident_rollup(name: str, bucket: sa.Column[Any]) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("trust_id", sa.String(7), primary_key=True),
        sa.Column("school_urn", sa.String(6), primary_key=True),
        bucket,
        sa.Column("kind", sa.String(20), primary_key=True),
        # How the record arrived (the MIS or "direct"), for the audit.
        sa.Column("source", sa.String(64), primary_key=True),
        # The school's own name for a seclusion ("" for other kinds), for the audit.
        sa.Column("label", sa.String(120), primary_key=True),
        sa.Column("setting_type", sa.String(40), nullable=False),
        sa.Column("incidents", sa.Integer, nullable=False),
        sa.Column("staff_injuries", sa.Integer, nullable=False),
        sa.Column("ground_restraint", sa.Integer, nullable=False),
        sa.Column("pupil_injuries", sa.Integer, nullable=False),
        sa.Column("late_records", sa.Integer, nullable=False),
        # Flagged practices (one per rule), incidents reviewed, incidents with a member of
        # staff whose training was not in date on the day.
        sa.Column("flagged", sa.Integer, nullable=False, server_default="0"),
        sa.Column("reviewed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("untrained", sa.Integer, nullable=False, server_default="0"),
    )


incident_day = _incident_rollup("incident_day", sa.Column("local_date", sa.Date, primary_key=True))
sa.Index("ix_incident_day_trust_id_local_date", incident_day.c.trust_id, incident_day.c.local_date)
# The same per calendar month (``month`` = year * 12 + month - 1): a period's whole months
# read these, only the days left over read ``incident_day``.
incident_month = _incident_rollup(
    "incident_month", sa.Column("month", sa.Integer, primary_key=True)
)

# Parent reports of counted incidents, by the incident's school and local date.
report_day = sa.Table(
    "report_day",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("school_urn", sa.String(6), primary_key=True),
    sa.Column("local_date", sa.Date, primary_key=True),
    sa.Column("setting_type", sa.String(40), nullable=False),
    sa.Column("reports", sa.Integer, nullable=False),
    sa.Column("sent", sa.Integer, nullable=False),
    sa.Column("completed", sa.Integer, nullable=False),
    sa.Column("met", sa.Integer, nullable=False),
    sa.Column("missed", sa.Integer, nullable=False),
    sa.Column("withheld", sa.Integer, nullable=False),
    sa.Column("timed", sa.Integer, nullable=False),
    sa.Index("ix_report_day_trust_id_local_date", "trust_id", "local_date"),
)


def _bins_rollup(name: str, bucket: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("trust_id", sa.String(7), primary_key=True),
        sa.Column("school_urn", sa.String(6), primary_key=True),
        sa.Column(bucket, sa.Integer, primary_key=True),
        sa.Column("bin", sa.Integer, primary_key=True),
        sa.Column("setting_type", sa.String(40), nullable=False),
        sa.Column("reports", sa.Integer, nullable=False),
    )


# Delivered parent reports of counted incidents per school, calendar month of the incident
# (``month`` = year * 12 + month - 1) and 15-minute bin of the minutes to first delivery.
report_minutes = _bins_rollup("report_minutes", "month")
# The same per week of the incident (``week``: weeks, Monday to Sunday, since Monday
# 1 January 1900): the days of a period outside whole months read whole weeks here, and
# only the few days left over read the reports.
report_minutes_week = _bins_rollup("report_minutes_week", "week")


def _pupil_rollup(name: str, bucket: str) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("trust_id", sa.String(7), primary_key=True),
        sa.Column(bucket, sa.Integer, primary_key=True),
        sa.Column("school_urn", sa.String(6), primary_key=True),
        sa.Column("pupil_id", sa.String(36), primary_key=True),
        sa.Column("characteristics", sa.String(80), primary_key=True),
        sa.Column("setting_type", sa.String(40), nullable=False),
        sa.Column("sen_provision", sa.String(1), nullable=False),
        sa.Column("year_group", sa.String(2)),
        sa.Column("gender", sa.String(1)),
        sa.Column("fsm_eligible", sa.Boolean),
        sa.Column("fsm_ever6", sa.Boolean),
        sa.Column("ethnicity", sa.String(4)),
        sa.Column("incidents", sa.Integer, nullable=False),
    )


# Counted incidents per pupil per academic year, by the characteristics the records gave:
# disproportionality over a whole year reads one row per pupil, not every fact.
pupil_year = _pupil_rollup("pupil_year", "academic_year")
# The same per pupil and calendar month (``month`` = year * 12 + month - 1): distinct pupils
# over any run of whole months (a term, a month of a trend) read these, not the facts.
pupil_month = _pupil_rollup("pupil_month", "month")

# The rollups the projections keep (services/reporting/rollups.py).
ROLLUPS = (
    "incident_day",
    "incident_month",
    "report_day",
    "report_minutes",
    "report_minutes_week",
    "pupil_year",
    "pupil_month",
)
# Tables a rebuild empties for a trust (everything but the outbox).
READ_MODEL = (
    "school",
    "incident_fact",
    "parent_report_fact",
    "subject_version",
    "trust_state",
    "incident_staff",
    "incident_review",
    "practice_flag",
    "pupil",
    "staff",
    "training_record",
    "roll",
    "school_audit",
    "parent_report_status",
    *ROLLUPS,
)

tables = add_outbox_tables(metadata)
outbox = tables.outbox
inbox = tables.inbox
