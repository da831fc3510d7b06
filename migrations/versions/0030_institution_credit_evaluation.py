"""institution credit evaluation

Revision ID: 0030
Revises: 0029
Create Date: 2026-11-30 22:41:30.013989
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.db_types  # noqa: F401

revision: str = '0030'
down_revision: str | None = '0029'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('national_credit_listings',
    sa.Column('province_slug', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.Column('updated_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('credit_code', sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
    sa.Column('region_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('listing', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('previous', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('manual', sa.Boolean(), nullable=False),
    sa.Column('changed_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('province_slug', 'institution_id', 'year')
    )
    with op.batch_alter_table('national_credit_listings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_national_credit_listings_listing'), ['listing'], unique=False)
        batch_op.create_index(batch_op.f('ix_national_credit_listings_year'), ['year'], unique=False)

    op.create_table('credit_inspections',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('inspected_on', sa.Date(), nullable=False),
    sa.Column('result', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('recorded_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('institution_id', 'year', name='uq_credit_inspections_year')
    )
    with op.batch_alter_table('credit_inspections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_inspections_institution_id'), ['institution_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_inspections_year'), ['year'], unique=False)

    op.create_table('credit_penalties',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('decision_no', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('recorded_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('recorded_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('decision_no')
    )
    with op.batch_alter_table('credit_penalties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_penalties_decided_on'), ['decided_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_penalties_institution_id'), ['institution_id'], unique=False)

    op.create_table('credit_scores',
    sa.Column('institution_id', sa.Uuid(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('breakdown', sa.JSON(), nullable=False),
    sa.Column('rules_version', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('facts_digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('listing', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
    sa.Column('listing_reasons', sa.JSON(), nullable=False),
    sa.Column('listing_manual', sa.Boolean(), nullable=False),
    sa.Column('listed_at', registry.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('evaluated_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], ),
    sa.PrimaryKeyConstraint('institution_id', 'year')
    )


def downgrade() -> None:
    op.drop_table('credit_scores')
    with op.batch_alter_table('credit_penalties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_penalties_institution_id'))
        batch_op.drop_index(batch_op.f('ix_credit_penalties_decided_on'))

    op.drop_table('credit_penalties')
    with op.batch_alter_table('credit_inspections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_inspections_year'))
        batch_op.drop_index(batch_op.f('ix_credit_inspections_institution_id'))

    op.drop_table('credit_inspections')
    with op.batch_alter_table('national_credit_listings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_national_credit_listings_year'))
        batch_op.drop_index(batch_op.f('ix_national_credit_listings_listing'))

    op.drop_table('national_credit_listings')
