"""The notifications service's tables (its own database)."""

from __future__ import annotations

import sqlalchemy as sa

from shared.auth.revocation import add_revoked_client_table
from shared.db.types import UTCDateTime, metadata_for
from shared.outbox.tables import add_outbox_tables

metadata = metadata_for()

contact = sa.Table(
    "contact",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("contact_id", sa.String(36), primary_key=True),
    sa.Column("pupil_id", sa.String(36), nullable=False),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("relationship", sa.String(40), nullable=False),
    sa.Column("parental_responsibility", sa.Boolean, nullable=False),
    sa.Column("priority", sa.Integer, nullable=False, server_default="1"),
    sa.Column("email", sa.String(254)),
    sa.Column("mobile", sa.String(20)),
    sa.Column("preferred_channel", sa.String(10), nullable=False, server_default="email"),
    sa.Column("language", sa.String(10), nullable=False, server_default="en"),
    sa.Column("do_not_contact", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("do_not_contact_reason", sa.String(500)),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_contact_trust_id_pupil_id", "trust_id", "pupil_id"),
)

parent_report = sa.Table(
    "parent_report",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("report_id", sa.String(36), primary_key=True),
    sa.Column("incident_id", sa.String(36), nullable=False),
    sa.Column("incident_revision", sa.Integer, nullable=False),
    sa.Column("pupil_id", sa.String(36), nullable=False),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("contact_id", sa.String(36), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("incident_occurred_at", UTCDateTime, nullable=False),
    sa.Column("local_date", sa.String(10), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    # What the written report says, as the incident event gave it.
    sa.Column("content", sa.JSON, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.UniqueConstraint("trust_id", "incident_id", "contact_id"),
    sa.Index("ix_parent_report_trust_id_status", "trust_id", "status"),
)

message = sa.Table(
    "message",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("message_id", sa.String(36), primary_key=True),
    sa.Column("report_id", sa.String(36), nullable=False),
    sa.Column("channel", sa.String(10), nullable=False),
    sa.Column("provider", sa.String(20), nullable=False),
    sa.Column("recipient_masked", sa.String(260), nullable=False),
    sa.Column("provider_ref", sa.String(200)),
    sa.Column("status", sa.String(30), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.Column("delivered_at", UTCDateTime),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Index("ix_message_trust_id_report_id", "trust_id", "report_id"),
)

# Machine clients whose tokens this service refuses (client.revoked.v1).
revoked_client = add_revoked_client_table(metadata)

tables = add_outbox_tables(metadata)
outbox = tables.outbox
inbox = tables.inbox
