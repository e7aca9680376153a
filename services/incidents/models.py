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
    sa.Column("fsm_ever6", sa.Boolean),
    sa.Column("ethnicity", sa.String(4)),
    # Canonical techniques the pupil's handling plan permits; NULL when no plan is on file.
    sa.Column("handling_plan", sa.JSON),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("trust_id", "school_urn", "mis_ref"),
)

staff = sa.Table(
    "staff",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("school_urn", sa.String(6), primary_key=True),
    sa.Column("staff_ref", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(100)),
    sa.Column("email", sa.String(254)),
    sa.Column("phone", sa.String(40)),
    # May use restrictive interventions, so must be trained; who they are alerted as
    # ("dsl,head": sorted, comma-separated). Stored so that a change to either alone is a
    # change, sent on to notifications and reporting.
    sa.Column("requires_training", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("escalation_roles", sa.String(40), nullable=False, server_default=""),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

staff_training = sa.Table(
    "staff_training",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("school_urn", sa.String(6), primary_key=True),
    sa.Column("staff_ref", sa.String(64), primary_key=True),
    sa.Column("provider", sa.String(100), primary_key=True),
    sa.Column("course", sa.String(200), primary_key=True),
    sa.Column("certification", sa.String(200)),
    sa.Column("techniques", sa.JSON, nullable=False),
    sa.Column("completed_date", sa.Date, nullable=False),
    sa.Column("expiry_date", sa.Date, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

trust_setting = sa.Table(
    "trust_setting",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    # '' for the trust's own settings, else a school's URN: the school's override wins.
    sa.Column("scope", sa.String(6), primary_key=True),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

incident_draft = sa.Table(
    "incident_draft",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("incident_id", sa.String(36), primary_key=True),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(200), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
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
    # Retired mappings stay: old records name the version they were read under.
    sa.Column("retired_at", UTCDateTime),
    # A provider's hold name can also say the position and how many staff it takes.
    sa.Column("attributes", sa.JSON),
)

unmapped_label = sa.Table(
    "unmapped_label",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("scope", sa.String(6), primary_key=True),
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("label", sa.String(120), primary_key=True),
    sa.Column("seen", sa.Integer, nullable=False),
    sa.Column("first_seen_at", UTCDateTime, nullable=False),
    sa.Column("last_seen_at", UTCDateTime, nullable=False),
)

roll = sa.Table(
    "roll",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("school_urn", sa.String(6), primary_key=True),
    sa.Column("academic_year", sa.String(7), primary_key=True),
    sa.Column("total", sa.Integer, nullable=False),
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

school_audit = sa.Table(
    "school_audit",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("school_urn", sa.String(6), primary_key=True),
    sa.Column("answers", sa.JSON, nullable=False),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
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
    # The DOMAIN §5 sections, canonicalised; NULL for thin historic records.
    sa.Column("record", sa.JSON),
    sa.Column("flags", sa.JSON),
    sa.Column("review", sa.JSON),
    sa.Column("reviewed_at", UTCDateTime),
    sa.Column("closed_at", UTCDateTime),
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
    sa.Column("changed_fields", sa.JSON),
    # Whose record this revision was: a record moved to the right pupil by amendment
    # stays in the first pupil's file up to the move, voided there.
    sa.Column("pupil_id", sa.String(36)),
    sa.Index("ix_incident_revision_trust_id_pupil_id", "trust_id", "pupil_id"),
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

# Append-only: triggers refuse UPDATE and DELETE (migration 6f49a63cd701); each entry
# carries the hash of the one before it in its trust, so a gap or a change shows.
audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("role", sa.String(40), nullable=False),
    sa.Column("client", sa.String(200)),
    sa.Column("action", sa.String(10), nullable=False),
    sa.Column("method", sa.String(10), nullable=False),
    sa.Column("route", sa.String(200), nullable=False),
    sa.Column("resource", sa.String(500), nullable=False),
    sa.Column("pupil_id", sa.String(36)),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Index("ix_audit_log_trust_id_at", "trust_id", "at"),
)

tables = add_outbox_tables(metadata)
outbox = tables.outbox
inbox = tables.inbox
