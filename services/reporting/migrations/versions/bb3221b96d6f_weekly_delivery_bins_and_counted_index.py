"""weekly delivery bins and an index of counted incidents

Revision ID: bb3221b96d6f
Revises: 7d41f0a9c3b5
Create Date: 2026-11-30 03:00:00.000000

``report_minutes_week`` counts delivered parent reports per school, week and 15-minute bin,
so that a period's days outside whole months read whole weeks, not every report. A partial
index of counted incidents by date, carrying what per-pupil counts read, lets those days'
facts be read from the index alone (PostgreSQL). The rollups are then computed afresh
(``services.reporting.refill.refill``), as the projections keep them.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'bb3221b96d6f'
down_revision: str | None = '7d41f0a9c3b5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED = 'significant AND NOT voided'


def upgrade() -> None:
    op.create_table('report_minutes_week',
    sa.Column('trust_id', sa.String(length=7), nullable=False),
    sa.Column('school_urn', sa.String(length=6), nullable=False),
    sa.Column('week', sa.Integer(), nullable=False),
    sa.Column('bin', sa.Integer(), nullable=False),
    sa.Column('setting_type', sa.String(length=40), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('trust_id', 'school_urn', 'week', 'bin', name=op.f('pk_report_minutes_week'))
    )
    with op.batch_alter_table('incident_fact', schema=None) as batch_op:
        batch_op.create_index(
            'ix_incident_fact_counted_trust_id_local_date',
            ['trust_id', 'local_date'],
            unique=False,
            postgresql_include=['school_urn', 'setting_type', 'pupil_id', 'sen_provision', 'year_group', 'gender', 'fsm_eligible', 'fsm_ever6', 'ethnicity'],
            postgresql_where=sa.text(COUNTED),
            sqlite_where=sa.text(COUNTED),
        )
    from services.reporting.refill import refill

    bind = op.get_bind()
    for statement in refill():
        bind.execute(statement)


def downgrade() -> None:
    with op.batch_alter_table('incident_fact', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_fact_counted_trust_id_local_date')
    op.drop_table('report_minutes_week')
