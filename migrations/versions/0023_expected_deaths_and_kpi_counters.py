"""expected deaths from the yearbook; counters for archived cases and institutions at work

Revision ID: 0023
Revises: 0017
Create Date: 2026-11-30 15:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.db_types  # noqa: F401

revision: str = '0023'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('national_expected_deaths',
    sa.Column('province_slug', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('province_code', sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
    sa.Column('population', sa.Integer(), nullable=False),
    sa.Column('death_rate_permille', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('expected_deaths', sa.Integer(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('loaded_at', registry.db_types.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('province_slug', 'year')
    )
    # the counters gain archived cases and institutions at work: recount them once from the national records
    from sqlmodel import Session

    from registry.national.statistics import rebuild

    with Session(bind=op.get_bind()) as session:
        rebuild(session)
        session.flush()


def downgrade() -> None:
    op.drop_table('national_expected_deaths')
    op.execute("DELETE FROM national_counts WHERE metric IN ('archived', 'institution_activity')")
