"""sharing: how far each department has received the outbox (部门数据共享)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 03:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.db_types

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sharing_cursors',
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('delivered_seq', sa.Integer(), nullable=False),
    sa.Column('updated_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('department')
    )


def downgrade() -> None:
    op.drop_table('sharing_cursors')
