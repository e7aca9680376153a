"""The incidents service's tables (its own database)."""

from __future__ import annotations

import sqlalchemy as sa

from shared.auth.revocation import add_revoked_client_table
from shared.db.types import UTCDateTime, metadata_for
from shared.outbox.tables import add_outbox_tables

metadata = metadata_for()

trust = sa.Table(
    "trust",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("vocabulary_version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

school = sa.Table(
    "school",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("urn", sa.String(6), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("laestab", sa.String(7)),
    sa.Column("establishment_type", sa.String(80)),
    sa.Column("phase", sa.String(40)),
    sa.Column("setting_type", sa.String(40), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="Europe/London"),
    sa.Column("phone", sa.String(40)),
    sa.Column("email", sa.String(254)),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

pupil = sa.Table(
    "pupil",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("pupil_id", sa.String(36), primary_key=True),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("mis_ref", sa.String(64), nullable=False),
    sa.Column("upn", sa.String(13)),
    sa.Column("legal_first_name", sa.String(100), nullable=False),
    sa.Column("legal_last_name", sa.String(100), nullable=False),
    sa.Column("preferred_name", sa.String(100)),
    sa.Column("date_of_birth", sa.Date),
    sa.Column("sen_provision", sa.String(1), nullable=False, server_default="N"),
    sa.Column("year_group", sa.String(2)),
    sa.Column("gender", sa.String(1)),
    sa.Column("fsm_eligible", sa.Boolean),
    sa.Column("ethnicity", sa.String(4)),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("trust_id", "school_urn", "mis_ref"),
)

vocabulary_label = sa.Table(
    "vocabulary_label",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    # '' for a trust-wide label, else the school's URN: a school's own word wins.
    sa.Column("scope", sa.String(6), primary_key=True),
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("label", sa.String(120), primary_key=True),
    sa.Column("code", sa.String(60), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)

incident = sa.Table(
    "incident",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("incident_id", sa.String(36), primary_key=True),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("pupil_id", sa.String(36), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("occurred_at", UTCDateTime, nullable=False),
    sa.Column("ended_at", UTCDateTime),
    sa.Column("local_date", sa.String(10), nullable=False),
    sa.Column("intervention_type", sa.String(60), nullable=False),
    sa.Column("intervention_label", sa.String(120), nullable=False),
    sa.Column("vocabulary_version", sa.Integer, nullable=False),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("historic", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("source_system", sa.String(64)),
    sa.Column("source_id", sa.String(128)),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.UniqueConstraint("trust_id", "school_urn", "source_system", "source_id"),
    sa.Index(
        "ix_incident_trust_id_school_urn_occurred_at", "trust_id", "school_urn", "occurred_at"
    ),
    sa.Index("ix_incident_trust_id_pupil_id", "trust_id", "pupil_id"),
)

incident_revision = sa.Table(
    "incident_revision",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("incident_id", sa.String(36), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("author", sa.String(200), nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

idempotency_key = sa.Table(
    "idempotency_key",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("caller", sa.String(200), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("incident_id", sa.String(36), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
)


api_client = sa.Table(
    "api_client",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    # The trust reference leads the client id, so the token endpoint finds the trust.
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("schools", sa.JSON, nullable=False),  # URNs, or ["*"]
    sa.Column("scopes", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("revoked_at", UTCDateTime),
    sa.Column("revoked_by", sa.String(200)),
)

api_client_secret = sa.Table(
    "api_client_secret",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("secret_id", sa.String(36), primary_key=True),
    sa.Column("secret_hash", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    # Null while current; set on rotation to the end of the overlap.
    sa.Column("expires_at", UTCDateTime),
)
# Machine clients whose tokens this service refuses (client.revoked.v1).
revoked_client = add_revoked_client_table(metadata)

tables = add_outbox_tables(metadata)
outbox = tables.outbox
inbox = tables.inbox
