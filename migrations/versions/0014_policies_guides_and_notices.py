"""policies, service guides and notices a province publishes (政策法规, 办事指南, 通知公告)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 12:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.db_types

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('publications',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('category', sa.Enum('policy', 'guide', 'notice', name='publicationcategory'), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('document_number', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('issuing_authority', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('content', sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'withdrawn', name='publicationstatus'), nullable=False),
    sa.Column('withdrawal_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_at', registry.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', registry.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publications_category'), ['category'], unique=False)
        batch_op.create_index('ix_publications_status_published_at', ['status', 'published_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('publications', schema=None) as batch_op:
        batch_op.drop_index('ix_publications_status_published_at')
        batch_op.drop_index(batch_op.f('ix_publications_category'))

    op.drop_table('publications')
    # PostgreSQL keeps enum types after their tables are dropped
    for enum_name in ('publicationcategory', 'publicationstatus'):
        sa.Enum(name=enum_name).drop(op.get_bind(), checkfirst=True)
