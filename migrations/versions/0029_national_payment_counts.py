"""the ministry counts payment orders paid and refunded and their amounts (fen) with the online services

Revision ID: 0029
Revises: 0028
Create Date: 2026-11-30 20:10:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import registry.db_types

revision: str = '0029'
down_revision: str | None = '0028'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('national_online_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paid_at', registry.db_types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('amount_fen', sa.BigInteger(), nullable=True))
    with op.batch_alter_table('national_online_counts', schema=None) as batch_op:
        batch_op.alter_column('count', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('national_online_counts', schema=None) as batch_op:
        batch_op.alter_column('count', existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False)
    with op.batch_alter_table('national_online_items', schema=None) as batch_op:
        batch_op.drop_column('amount_fen')
        batch_op.drop_column('paid_at')
