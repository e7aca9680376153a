"""staff keep whether they need training and their escalation roles

Revision ID: 5d2e8a71c0f4
Revises: 4cac614e333a
Create Date: 2026-11-30 03:20:00.000000

A member of staff's ``requires_training`` and ``escalation_roles`` were sent on in
``staff.updated`` but not kept, so a change to either alone was not seen as a change and
never reached notifications or reporting. Existing staff keep the defaults (needs training,
no escalation roles) until their school's system sends them again.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '5d2e8a71c0f4'
down_revision: str | None = '4cac614e333a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requires_training', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('escalation_roles', sa.String(length=40), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_column('escalation_roles')
        batch_op.drop_column('requires_training')
