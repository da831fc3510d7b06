"""the pairs the ministry found of one person registered in this province and in another, pulled back over the
exchange for the province's reviewers to settle; at the ministry, what each province found

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-01 06:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.db_types

revision: str = '0034'
down_revision: str | None = '0033'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'cross_province_matches',
        sa.Column('match_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('case_id', sa.Uuid(), nullable=False),
        sa.Column('other_province', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('other_province_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column('other_case_id', sa.Uuid(), nullable=False),
        sa.Column('found_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('received_at', registry.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finding', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column('finding_note_encrypted', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.Column('found_by', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column('settled_at', registry.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('match_id'))
    with op.batch_alter_table('cross_province_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cross_province_matches_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cross_province_matches_finding'), ['finding'], unique=False)
    with op.batch_alter_table('national_person_matches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('finding_a', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('settled_a_at', registry.db_types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('finding_b', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('settled_b_at', registry.db_types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('national_person_matches', schema=None) as batch_op:
        for column in ('settled_b_at', 'finding_b', 'settled_a_at', 'finding_a'):
            batch_op.drop_column(column)
    with op.batch_alter_table('cross_province_matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cross_province_matches_finding'))
        batch_op.drop_index(batch_op.f('ix_cross_province_matches_case_id'))
    op.drop_table('cross_province_matches')
