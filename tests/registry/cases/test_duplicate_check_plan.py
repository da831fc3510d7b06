"""The duplicate check stays an index lookup when `cases` grows under a connection that has already used it.

A new tenant's first declarations are checked while `cases` is empty. Had the connection cached a generic plan
then (PostgreSQL does after five executions of a prepared statement), an archive backfill of thousands of cases
would make every later check scan the whole table until autovacuum re-analysed it.
"""
import uuid
from datetime import date

import pytest
from sqlalchemy import text
from sqlmodel import Session

from factories import case_payload, resident_id
from registry.cases import duplicates
from registry.cases.models import CaseCreate

BACKFILL = 20_000


def _scans(engine) -> tuple[int, int]:
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_stat_clear_snapshot()"))
        row = connection.execute(text(
            "SELECT seq_scan, coalesce(idx_scan, 0) FROM pg_stat_user_tables WHERE relname = 'cases'")).one()
    return row[0], row[1]


def _backfill(engine, template_id: uuid.UUID) -> None:
    """Copies of one case with their own id, name and blind index, in one statement and without ANALYZE."""
    with engine.begin() as connection:
        connection.execute(text("""
            INSERT INTO cases (id, status, institution_id, deceased_name, sex, ethnicity, id_type, id_number_cipher,
                id_number_index, id_number_masked, birth_date, household_region, death_at, death_place_type,
                death_manner, cause_category, death_certificate_no, informant_name, informant_relation,
                informant_phone_cipher, informant_phone_masked, created_at, updated_at, archived_at)
            SELECT gen_random_uuid(), status, institution_id, deceased_name || g, sex, ethnicity, id_type,
                id_number_cipher, md5(g::text), id_number_masked, birth_date, household_region, death_at,
                death_place_type, death_manner, cause_category, death_certificate_no, informant_name,
                informant_relation, informant_phone_cipher, informant_phone_masked, created_at, updated_at, archived_at
            FROM cases, generate_series(1, :n) AS g WHERE cases.id = :template"""),
            {"n": BACKFILL, "template": template_id})


@pytest.mark.postgresql_only
def test_duplicate_checks_still_use_the_indexes_after_a_backfill(app, client, registrar, funeral_home):
    ctx, institution = app.state.ctx, uuid.UUID(funeral_home["id"])
    first = client.post("/api/v1/cases", json=case_payload(institution), headers=registrar)
    assert first.status_code == 201, first.text
    facts = CaseCreate.model_validate(case_payload(institution, deceased_name="未登记的人", birth_date="1949-12-31",
                                                   id_number=resident_id(birth=date(1949, 12, 31), seq=7)))
    with ctx.engine.connect() as connection:  # one connection throughout, as a pooled one in a server
        session = Session(bind=connection)
        for _ in range(20):  # past the point where a generic plan would be cached (psycopg prepares at the 5th)
            assert duplicates.find(session, ctx=ctx, facts=facts) is None
        connection.commit()
        _backfill(ctx.engine, uuid.UUID(first.json()["id"]))
        connection.execute(text("SELECT pg_stat_force_next_flush()"))  # this connection's counters, when idle
        connection.commit()
        before = _scans(ctx.engine)

        assert duplicates.find(session, ctx=ctx, facts=facts) is None
        connection.execute(text("SELECT pg_stat_force_next_flush()"))
        connection.commit()
        after = _scans(ctx.engine)

    seq_scans, index_scans = after[0] - before[0], after[1] - before[1]
    assert (seq_scans, index_scans > 0) == (0, True), f"{seq_scans} table scans, {index_scans} index scans"
