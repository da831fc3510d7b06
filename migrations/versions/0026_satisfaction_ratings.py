"""satisfaction ratings of completed services

Revision ID: 0026
Revises: 0025
Create Date: 2026-11-30 18:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.db_types  # noqa: F401

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('ratings',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('booking_id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('service_kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('owner_subject', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment_encrypted', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('comment_status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
    sa.Column('flagged', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', registry.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('score BETWEEN 1 AND 5', name='ck_ratings_score'),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('booking_id')
    )
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ratings_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ratings_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ratings_owner_subject'), ['owner_subject'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ratings_owner_subject'))
        batch_op.drop_index(batch_op.f('ix_ratings_institution_id'))
        batch_op.drop_index(batch_op.f('ix_ratings_created_at'))
    op.drop_table('ratings')
