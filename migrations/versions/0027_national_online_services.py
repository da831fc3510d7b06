"""national records and counters of online services (approvals, bookings, complaints, memorials, ratings)

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-30 18:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.db_types

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('national_online_counts',
    sa.Column('province_slug', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('institution', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('measure', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('province_slug', 'institution', 'year', 'month', 'service', 'measure', 'kind')
    )
    with op.batch_alter_table('national_online_counts', schema=None) as batch_op:
        batch_op.create_index('ix_national_online_counts_question', ['year', 'province_slug', 'month'], unique=False)

    op.create_table('national_online_items',
    sa.Column('province_slug', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('updated_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('service', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('item_id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('opened_at', registry.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status_at', registry.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', registry.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', registry.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalated_at', registry.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('late_at', registry.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('upheld', sa.Boolean(), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('province_slug', 'service', 'item_id')
    )
    with op.batch_alter_table('national_online_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_national_online_items_institution_id'), ['institution_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('national_online_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_national_online_items_institution_id'))

    op.drop_table('national_online_items')
    with op.batch_alter_table('national_online_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_national_online_counts_question')

    op.drop_table('national_online_counts')
