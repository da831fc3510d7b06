"""expected deaths from the yearbook; counters for archived cases and institutions at work; national_cases
partitioned by province on PostgreSQL

Revision ID: 0023
Revises: 0021
Create Date: 2026-11-30 15:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import registry.db_types  # noqa: F401
from registry.national.models import NATIONAL_CASES_PARTITIONS, national_cases_partition

revision: str = '0023'
down_revision: str | None = '0021'
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
    _partition_national_cases()
    # the counters gain archived cases and institutions at work: recount them once from the national records
    from sqlmodel import Session

    from registry.national.statistics import rebuild

    with Session(bind=op.get_bind()) as session:
        rebuild(session)
        session.flush()


def _partition_national_cases() -> None:
    """On PostgreSQL, national_cases becomes a table partitioned by hash of the province (its key already starts
    with it): each province's cases sit in one of a fixed set of partitions, so a province's reads, index scans and
    vacuums touch one partition, and no partition is ever created at ingest."""
    if op.get_bind().dialect.name != "postgresql":
        return
    _rebuild_national_cases("PARTITION BY HASH (province_slug)", partitions=NATIONAL_CASES_PARTITIONS)


# the table's indexes at this revision (not the model's, which later revisions change: 0036 drops two)
_INDEXED = ("death_at", "household_region", "person_ref", "province_code", "status")


def _rebuild_national_cases(partitioning: str, *, partitions: int) -> None:
    """A new national_cases (partitioned or not) with the same columns, key and indexes; the rows copied over."""
    op.execute("ALTER TABLE national_cases RENAME TO national_cases_before")
    op.execute("ALTER TABLE national_cases_before RENAME CONSTRAINT national_cases_pkey TO national_cases_before_pkey")
    for column in _INDEXED:
        op.execute(f"DROP INDEX ix_national_cases_{column}")
    op.execute(f"CREATE TABLE national_cases (LIKE national_cases_before INCLUDING DEFAULTS) {partitioning}")
    op.execute("ALTER TABLE national_cases ADD CONSTRAINT national_cases_pkey PRIMARY KEY (province_slug, case_id)")
    for remainder in range(partitions):
        op.execute(f"CREATE TABLE {national_cases_partition(remainder)} PARTITION OF national_cases "
                   f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {remainder})")
    for column in _INDEXED:
        op.create_index(f"ix_national_cases_{column}", "national_cases", [column])
    op.execute("INSERT INTO national_cases SELECT * FROM national_cases_before")
    op.execute("DROP TABLE national_cases_before")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _rebuild_national_cases("", partitions=0)
    op.drop_table('national_expected_deaths')
    op.execute("DELETE FROM national_counts WHERE metric IN ('archived', 'institution_activity')")
