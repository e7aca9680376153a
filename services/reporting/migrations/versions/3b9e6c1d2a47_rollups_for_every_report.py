"""rollups for every report

Revision ID: 3b9e6c1d2a47
Revises: e2a20cc9a8df
Create Date: 2026-11-29 20:10:00.000000

The daily incident rollup gains how records arrived, seclusion names, flags, reviews and
staff without in-date training; parent reports and pupils per month get rollups of their
own; each parent report is dated by its incident. The rollups are computed from the base
tables by the next revision (``services.reporting.refill.refill``).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '3b9e6c1d2a47'
down_revision: str | None = 'e2a20cc9a8df'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _day_counts() -> list[sa.Column]:
    return [
        sa.Column('incidents', sa.Integer(), nullable=False),
        sa.Column('staff_injuries', sa.Integer(), nullable=False),
        sa.Column('ground_restraint', sa.Integer(), nullable=False),
        sa.Column('pupil_injuries', sa.Integer(), nullable=False),
        sa.Column('late_records', sa.Integer(), nullable=False),
    ]


def _pupil_columns() -> list[sa.Column]:
    return [
        sa.Column('school_urn', sa.String(length=6), nullable=False),
        sa.Column('pupil_id', sa.String(length=36), nullable=False),
        sa.Column('characteristics', sa.String(length=80), nullable=False),
        sa.Column('setting_type', sa.String(length=40), nullable=False),
        sa.Column('sen_provision', sa.String(length=1), nullable=False),
        sa.Column('year_group', sa.String(length=2), nullable=True),
        sa.Column('gender', sa.String(length=1), nullable=True),
        sa.Column('fsm_eligible', sa.Boolean(), nullable=True),
        sa.Column('fsm_ever6', sa.Boolean(), nullable=True),
        sa.Column('ethnicity', sa.String(length=4), nullable=True),
        sa.Column('incidents', sa.Integer(), nullable=False),
    ]


def upgrade() -> None:
    op.drop_index('ix_incident_day_trust_id_local_date', table_name='incident_day')
    op.drop_table('incident_day')
    op.create_table('incident_day',
    sa.Column('trust_id', sa.String(length=7), nullable=False),
    sa.Column('school_urn', sa.String(length=6), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('label', sa.String(length=120), nullable=False),
    sa.Column('setting_type', sa.String(length=40), nullable=False),
    *_day_counts(),
    sa.Column('flagged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('reviewed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('untrained', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('trust_id', 'school_urn', 'local_date', 'kind', 'source', 'label', name=op.f('pk_incident_day'))
    )
    op.create_index('ix_incident_day_trust_id_local_date', 'incident_day', ['trust_id', 'local_date'], unique=False)
    op.create_table('report_day',
    sa.Column('trust_id', sa.String(length=7), nullable=False),
    sa.Column('school_urn', sa.String(length=6), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('setting_type', sa.String(length=40), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('sent', sa.Integer(), nullable=False),
    sa.Column('completed', sa.Integer(), nullable=False),
    sa.Column('met', sa.Integer(), nullable=False),
    sa.Column('missed', sa.Integer(), nullable=False),
    sa.Column('withheld', sa.Integer(), nullable=False),
    sa.Column('timed', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('trust_id', 'school_urn', 'local_date', name=op.f('pk_report_day'))
    )
    op.create_index('ix_report_day_trust_id_local_date', 'report_day', ['trust_id', 'local_date'], unique=False)
    op.create_table('pupil_month',
    sa.Column('trust_id', sa.String(length=7), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    *_pupil_columns(),
    sa.PrimaryKeyConstraint('trust_id', 'month', 'school_urn', 'pupil_id', 'characteristics', name=op.f('pk_pupil_month'))
    )
    with op.batch_alter_table('parent_report_status', schema=None) as batch_op:
        batch_op.add_column(sa.Column('local_date', sa.Date(), nullable=True))
        batch_op.create_index('ix_parent_report_status_trust_id_local_date', ['trust_id', 'local_date', 'school_urn'], unique=False, postgresql_include=['incident_occurred_at', 'first_delivered_at'])
    with op.batch_alter_table('incident_staff', schema=None) as batch_op:
        batch_op.create_index('ix_incident_staff_trust_id_staff_id', ['trust_id', 'staff_id'], unique=False)
    with op.batch_alter_table('parent_report_fact', schema=None) as batch_op:
        batch_op.create_index('ix_parent_report_fact_trust_id_incident_id', ['trust_id', 'incident_id'], unique=False)
    # The rollups (the pupil-year key now writes yes/no as y/n) are computed afresh from
    # the base tables by the next revision, once every rollup table exists.


def downgrade() -> None:
    with op.batch_alter_table('parent_report_fact', schema=None) as batch_op:
        batch_op.drop_index('ix_parent_report_fact_trust_id_incident_id')
    with op.batch_alter_table('incident_staff', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_staff_trust_id_staff_id')
    with op.batch_alter_table('parent_report_status', schema=None) as batch_op:
        batch_op.drop_index('ix_parent_report_status_trust_id_local_date')
        batch_op.drop_column('local_date')
    op.drop_table('pupil_month')
    op.drop_index('ix_report_day_trust_id_local_date', table_name='report_day')
    op.drop_table('report_day')
    op.drop_index('ix_incident_day_trust_id_local_date', table_name='incident_day')
    op.drop_table('incident_day')
    op.create_table('incident_day',
    sa.Column('trust_id', sa.String(length=7), nullable=False),
    sa.Column('school_urn', sa.String(length=6), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('setting_type', sa.String(length=40), nullable=False),
    *_day_counts(),
    sa.PrimaryKeyConstraint('trust_id', 'school_urn', 'local_date', 'kind', name=op.f('pk_incident_day'))
    )
    op.create_index('ix_incident_day_trust_id_local_date', 'incident_day', ['trust_id', 'local_date'], unique=False)
