"""The reporting read model (its own database), rebuilt from events alone."""

from __future__ import annotations

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
    sa.Index("ix_incident_fact_trust_id_local_date", "trust_id", "local_date"),
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
)

# Machine clients whose tokens this service refuses (client.revoked.v1).
revoked_client = add_revoked_client_table(metadata)

tables = add_outbox_tables(metadata)
outbox = tables.outbox
inbox = tables.inbox
