"""institutions' public disclosures: opening hours, service commitments, supervision and complaints

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 11:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.db_types

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('institution_disclosures',
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('opening_hours', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('commitments', sqlmodel.sql.sqltypes.AutoString(length=4020), nullable=True),
    sa.Column('supervising_authority', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('complaint_phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('updated_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], ),
    sa.PrimaryKeyConstraint('institution_id')
    )


def downgrade() -> None:
    op.drop_table('institution_disclosures')
