"""delivery minutes histogram and monthly incident rollup

Revision ID: 7d41f0a9c3b5
Revises: 3b9e6c1d2a47
Create Date: 2026-11-29 23:10:00.000000

Each parent report keeps its minutes to first delivery and their 15-minute bin; the new
rollup ``report_minutes`` counts delivered reports per school, month and bin, so that a
delivery-time percentile reads only the bin its rank falls in. ``incident_month`` holds
the daily incident rollup per calendar month, for a period's whole months. The next
migration computes every rollup afresh from the base tables
(``services.reporting.refill.refill``), as the projections keep them.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '7d41f0a9c3b5'
down_revision: str | None = '3b9e6c1d2a47'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _incident_counts() -> list[sa.Column]:
    return [
        sa.Column('incidents', sa.Integer(), nullable=False),
        sa.Column('staff_injuries', sa.Integer(), nullable=False),
        sa.Column('ground_restraint', sa.Integer(), nullable=False),
        sa.Column('pupil_injuries', sa.Integer(), nullable=False),
        sa.Column('late_records', sa.Integer(), nullable=False),
        sa.Column('flagged', sa.Integer(), server_default='0', nullable=False),
        sa.Column('reviewed', sa.Integer(), server_default='0', nullable=False),
        sa.Column('untrained', sa.Integer(), server_default='0', nullable=False),
    ]


def upgrade() -> None:
    op.create_table('incident_month',
    sa.Column('trust_id', sa.String(length=7), nullable=False),
    sa.Column('school_urn', sa.String(length=6), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('setting_type', sa.String(length=40), nullable=False),
    *_incident_counts(),
    sa.PrimaryKeyConstraint('trust_id', 'school_urn', 'month', 'kind', 'source', 'label', name=op.f('pk_incident_month'))
    )
    op.create_table('report_minutes',
    sa.Column('trust_id', sa.String(length=7), nullable=False),
    sa.Column('school_urn', sa.String(length=6), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('bin', sa.Integer(), nullable=False),
    sa.Column('setting_type', sa.String(length=40), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('trust_id', 'school_urn', 'month', 'bin', name=op.f('pk_report_minutes'))
    )
    with op.batch_alter_table('parent_report_status', schema=None) as batch_op:
        batch_op.add_column(sa.Column('delivery_minutes', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('delivery_bin', sa.Integer(), nullable=True))
        batch_op.drop_index('ix_parent_report_status_trust_id_local_date')
        batch_op.create_index('ix_parent_report_status_trust_id_local_date', ['trust_id', 'local_date', 'school_urn'], unique=False, postgresql_include=['delivery_bin'])
        batch_op.create_index('ix_parent_report_status_trust_id_school_urn_delivery_bin', ['trust_id', 'school_urn', 'delivery_bin', 'local_date'], unique=False, postgresql_include=['delivery_minutes'])
    # Filled by the next migration's refill (bb3221b96d6f), which computes every rollup.


def downgrade() -> None:
    with op.batch_alter_table('parent_report_status', schema=None) as batch_op:
        batch_op.drop_index('ix_parent_report_status_trust_id_school_urn_delivery_bin')
        batch_op.drop_index('ix_parent_report_status_trust_id_local_date')
        batch_op.create_index('ix_parent_report_status_trust_id_local_date', ['trust_id', 'local_date', 'school_urn'], unique=False, postgresql_include=['incident_occurred_at', 'first_delivered_at'])
        batch_op.drop_column('delivery_bin')
        batch_op.drop_column('delivery_minutes')
    op.drop_table('report_minutes')
    op.drop_table('incident_month')
