"""a province's own figures: how far its outbox was applied to its own copy of the national records and counters

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-01 06:20:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import registry.db_types

revision: str = '0035'
down_revision: str | None = '0034'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'own_figures_cursor',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('applied_seq', sa.Integer(), nullable=False),
        sa.Column('updated_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'))


def downgrade() -> None:
    op.drop_table('own_figures_cursor')
