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
    # parent, local_authority (no parent may be told), unknown_contact (none on record)
    sa.Column("kind", sa.String(20), nullable=False, server_default="parent"),
    sa.Column("hold", sa.String(20)),  # safeguarding or approval, while it waits
    sa.Column("hold_reason", sa.String(1000)),
    sa.Column("deadline_at", UTCDateTime),
    sa.Column("standard", sa.String(20)),  # met, missed, not_required, withheld
    sa.Column("standard_reason", sa.String(500)),
    sa.Column("told_at", UTCDateTime),
    sa.Column("told_how", sa.String(20)),
    sa.Column("told_by", sa.String(200)),
    sa.Column("verbal_at", UTCDateTime),
    sa.Column("decided_by", sa.String(200)),
    sa.Column("decided_at", UTCDateTime),
    sa.Column("decision_reason", sa.String(2000)),
    sa.Column("revision", sa.Integer, nullable=False, server_default="1"),
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
    # Which step of the report's clock this message belongs to, and to whom: one message
    # per recipient per step per channel, whatever is redelivered.
    sa.Column("step", sa.String(40), nullable=False, server_default="initial"),
    sa.Column("recipient_kind", sa.String(10), nullable=False, server_default="parent"),
    sa.Column("recipient_ref", sa.String(64), nullable=False, server_default=""),
    sa.Column("purpose", sa.String(20), nullable=False, server_default="report"),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime),
    sa.Column("error", sa.String(500)),
    sa.Column("read_at", UTCDateTime),  # the parent confirmed reading it (signed link)
    sa.Index("ix_message_trust_id_report_id", "trust_id", "report_id"),
    sa.Index("ix_message_trust_id_provider_ref", "trust_id", "provider_ref"),
    sa.Index("ix_message_trust_id_status", "trust_id", "status"),
    sa.UniqueConstraint("trust_id", "report_id", "step", "channel", "recipient_ref"),
)

# Each step of a report's clock (first send, fallback, next contact, staff alerts, the
# deadline, the daily pursuit of a missed report). arq wakes a step at due_at; the
# sweeper finds any due step in this table, so losing Redis loses no step.
report_step = sa.Table(
    "report_step",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("report_id", sa.String(36), primary_key=True),
    sa.Column("step", sa.String(40), primary_key=True),
    sa.Column("school_urn", sa.String(6), nullable=False),
    sa.Column("due_at", UTCDateTime, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # due, done, skipped
    sa.Column("done_at", UTCDateTime),
    sa.Column("detail", sa.String(500)),
    sa.Index("ix_report_step_trust_id_status_due_at", "trust_id", "status", "due_at"),
)

# The report's timeline: every status change with its time, for the API and audits.
report_event = sa.Table(
    "report_event",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("event_id", sa.String(36), primary_key=True),
    sa.Column("report_id", sa.String(36), nullable=False),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("detail", sa.JSON, nullable=False),
    sa.Index("ix_report_event_trust_id_report_id_at", "trust_id", "report_id", "at"),
)

# Named staff alerted when the same-day standard is at risk: dsl and head per school,
# trust_lead with school_urn "*".
escalation_contact = sa.Table(
    "escalation_contact",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("school_urn", sa.String(6), primary_key=True),
    sa.Column("role", sa.String(20), primary_key=True),
    sa.Column("staff_id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(254)),
    sa.Column("mobile", sa.String(20)),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Parent-report settings: a trust row (school_urn "*") with per-school overrides; a
# null column falls through to the trust, then to the defaults in clock.py.
report_policy = sa.Table(
    "report_policy",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("school_urn", sa.String(6), primary_key=True),
    sa.Column("approval_mode", sa.String(20)),  # automatic or approve_first
    sa.Column("fallback_minutes", sa.Integer),
    sa.Column("dsl_alert_time", sa.String(5)),
    sa.Column("trust_alert_time", sa.String(5)),
    sa.Column("quiet_start", sa.String(5)),
    sa.Column("quiet_end", sa.String(5)),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Machine clients whose tokens this service refuses (client.revoked.v1).
revoked_client = add_revoked_client_table(metadata)
# A trust's written-report template (school_urn "*") or a school's adaptation of it;
# checked in the sandbox when stored, rendered in the sandbox when sent.
report_template = sa.Table(
    "report_template",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("school_urn", sa.String(6), primary_key=True),
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("updated_by", sa.String(200), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# The trust's schools as the incidents registry announced them (school.registered.v1):
# what tells this service that a URN is one of the caller's trust's schools.
school = sa.Table(
    "school",
    metadata,
    sa.Column("trust_id", sa.String(7), primary_key=True),
    sa.Column("school_urn", sa.String(6), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

tables = add_outbox_tables(metadata)
outbox = tables.outbox
inbox = tables.inbox
