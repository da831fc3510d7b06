"""The PostgreSQL databases the tests reuse (`pg_recycling`): a reused one is the template again, rows, sequences
and all; one whose schema a test changed, or that someone is still connected to, is not reused."""
import psycopg
import pytest
from psycopg import sql

import pg_recycling
from conftest import _libpq


@pytest.fixture
def recycler(request: pytest.FixtureRequest, pg_admin_url: str) -> pg_recycling.Recycler:
    # a recycler of its own on the session's template, so the session's clean copies are not touched
    shared: pg_recycling.Recycler = request.getfixturevalue("_pg_databases")
    recycler = pg_recycling.Recycler(shared.admin, _libpq(pg_admin_url), shared.template)
    yield recycler
    for name in recycler.clean:
        shared.admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _copy(recycler: pg_recycling.Recycler, suffix: str) -> str:
    name = f"fsp_t_recycling_{suffix}"
    recycler.admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    recycler.admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
        sql.Identifier(name), sql.Identifier(recycler.template.name)))
    recycler.handed_out(name)
    return name


def _connect(recycler: pg_recycling.Recycler, name: str) -> psycopg.Connection:
    return psycopg.connect(recycler.libpq_url, dbname=name, autocommit=True)


def _contents(connection: psycopg.Connection) -> dict:
    counts = {table: connection.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
              for table in ("institutions", "cases", "tenant_status", "alembic_version")}
    return {**counts, "status": connection.execute("SELECT * FROM tenant_status").fetchall(),
            "revision": connection.execute("SELECT version_num FROM alembic_version").fetchall(),
            "next_id": connection.execute("SELECT nextval('tenant_status_id_seq')").fetchone()[0]}


def test_a_reused_database_is_the_template_again(recycler):
    fresh = _copy(recycler, "fresh")
    with _connect(recycler, fresh) as connection:
        expected = _contents(connection)
    used = _copy(recycler, "used")
    with _connect(recycler, used) as connection:
        # what a test leaves: rows in parent and child tables, a changed seeded row, a sequence moved on
        connection.execute("INSERT INTO tenant_status SELECT id + 1, 'suspended', reason, since, incarnation"
                           " FROM tenant_status")
        connection.execute("UPDATE tenant_status SET state = 'suspended', incarnation = 'another'")
        for _ in range(5):
            connection.execute("SELECT nextval('tenant_status_id_seq')")
        connection.execute("UPDATE alembic_version SET version_num = 'elsewhere'")
    assert recycler.give_back(used) is True
    assert recycler.take() == used
    with _connect(recycler, used) as connection:
        assert _contents(connection) == expected


@pytest.mark.parametrize("ddl", [
    "CREATE TABLE extra (id int)",
    "DROP TABLE tenant_sequences",
    "ALTER TABLE cases ADD COLUMN extra text",
    "CREATE INDEX extra ON cases (deceased_name)",
    "DROP INDEX ix_national_counts_question",
    "GRANT SELECT ON cases TO PUBLIC",
    "CREATE SCHEMA extra",
    "ALTER DATABASE {database} SET work_mem = '8MB'",
    "ALTER DATABASE {database} CONNECTION LIMIT 50",
])
def test_a_database_whose_schema_changed_is_not_reused(recycler, ddl):
    name = _copy(recycler, "changed")
    with _connect(recycler, name) as connection:
        connection.execute(ddl.format(database=name))
    assert recycler.give_back(name) is False
    assert recycler.clean == []
    recycler.admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_database_someone_is_connected_to_is_not_reused(recycler, monkeypatch):
    monkeypatch.setattr(pg_recycling, "STILL_ENDING_SECONDS", 0.05)
    name = _copy(recycler, "connected")
    with _connect(recycler, name):
        assert recycler.give_back(name) is False
    recycler.admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
