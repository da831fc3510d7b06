"""Migration 0023 partitions national_cases by province on PostgreSQL (a plain table stays on SQLite): the rows
held before are all there after, in either direction."""
import uuid

from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from registry.national.models import NATIONAL_CASES_PARTITIONS, national_cases_partition

CASE = uuid.uuid4()


def _hold_one_case(url: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO national_cases (province_slug, case_id, province_code, status, institution_id, sex, ethnicity,"
            " id_type, birth_date, household_region, death_at, death_place_type, death_manner, cause_category,"
            " last_seq, updated_at) VALUES ('beijing', :id, '110000', 'declared', :inst, '1', '01', 'resident_id',"
            " '1931-03-01', '110105', '2026-10-01 02:00:00', 'hospital', 'normal', 'disease', 1,"
            " '2026-10-02 00:00:00')"), {"id": CASE if engine.dialect.name == "postgresql" else CASE.hex,
                                         "inst": uuid.UUID(int=7) if engine.dialect.name == "postgresql"
                                         else uuid.UUID(int=7).hex})
    engine.dispose()


def _where(url: str) -> tuple[str, str | None, int]:
    """The case's table (its partition on PostgreSQL), how national_cases is partitioned, and into how many."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        if engine.dialect.name != "postgresql":
            count = connection.execute(text("SELECT count(*) FROM national_cases")).scalar_one()
            return ("national_cases" if count == 1 else "", None, 0)
        held = connection.execute(text("SELECT tableoid::regclass::text FROM national_cases WHERE case_id = :id"),
                                  {"id": CASE}).scalar_one()
        strategy = connection.execute(text(
            "SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'national_cases'::regclass")).scalar()
        partitions = connection.execute(text(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'national_cases'::regclass")).scalar_one()
    engine.dispose()
    return held, strategy, partitions


def test_national_cases_are_partitioned_by_province_and_keep_their_rows(empty_database_url, run_alembic, db_backend):
    run_alembic(empty_database_url, command.upgrade, "0017")
    _hold_one_case(empty_database_url)

    run_alembic(empty_database_url, command.upgrade, "0023")
    held, strategy, partitions = _where(empty_database_url)
    if db_backend == "postgresql":
        assert (strategy, partitions) == ("h", NATIONAL_CASES_PARTITIONS)
        assert held in {national_cases_partition(r) for r in range(NATIONAL_CASES_PARTITIONS)}
    else:
        assert (held, strategy) == ("national_cases", None)

    run_alembic(empty_database_url, command.downgrade, "0017")
    assert _where(empty_database_url) == ("national_cases", None, 0)
