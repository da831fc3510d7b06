"""Tenant databases on SQLite and on the real PostgreSQL server, and their migrations."""
import shutil
import threading
import time
from pathlib import Path

import psycopg
import psycopg.sql
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, make_url
from sqlalchemy.pool import NullPool

from infra.ensure import ProvisioningError
from infra.ensure import database as dbe
from registry import db


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _admin(pg_admin_url: str) -> psycopg.Connection:
    return psycopg.connect(_libpq(pg_admin_url), autocommit=True)


def _ensure(pg_admin_url: str, name: str, password: str, known: str | None = None) -> str:
    return dbe.ensure_postgres_database(pg_admin_url, database=name, role=name, password=password,
                                        known_fingerprint=known)


def _login(pg_admin_url: str, *, database: str, role: str, password: str) -> psycopg.Connection:
    url = dbe.tenant_database_url(pg_admin_url, database=database, role=role, password=password)
    return psycopg.connect(_libpq(url), connect_timeout=5)


# --- SQLite -----------------------------------------------------------------------------------------------------

def test_sqlite_created_unchanged_and_mode_repaired(tmp_path):
    path = tmp_path / "tenants" / "beijing" / "registry.db"

    assert dbe.ensure_sqlite_database(path) == "created"
    assert path.stat().st_mode & 0o777 == 0o600
    assert dbe.ensure_sqlite_database(path) == "unchanged"
    path.chmod(0o644)
    assert dbe.ensure_sqlite_database(path) == "updated"
    assert path.stat().st_mode & 0o777 == 0o600


def test_sqlite_keeps_existing_data(tmp_path):
    path = tmp_path / "registry.db"
    dbe.ensure_sqlite_database(path)
    dbe.ensure_migrations(f"sqlite:///{path}")
    size = path.stat().st_size

    assert dbe.ensure_sqlite_database(path) == "unchanged"
    assert path.stat().st_size == size > 0


# --- PostgreSQL -------------------------------------------------------------------------------------------------

def test_postgres_created_then_unchanged(pg_admin_url, pg_names):
    name = pg_names("a")
    fingerprint = dbe.password_fingerprint(name, "pw-one")

    assert _ensure(pg_admin_url, name, "pw-one") == "created"
    assert _ensure(pg_admin_url, name, "pw-one", fingerprint) == "unchanged"

    with _admin(pg_admin_url) as admin:
        owner, = admin.execute("SELECT datdba::regrole::text FROM pg_database WHERE datname = %s", (name,)).fetchone()
        flags = admin.execute("SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles"
                              " WHERE rolname = %s", (name,)).fetchone()
    assert owner == name
    assert flags == (True, False, False, False)
    with _login(pg_admin_url, database=name, role=name, password="pw-one") as conn:
        assert conn.execute("SELECT current_user").fetchone() == (name,)


def test_postgres_password_change_is_an_update(pg_admin_url, pg_names):
    name = pg_names("a")
    _ensure(pg_admin_url, name, "pw-one")

    assert _ensure(pg_admin_url, name, "pw-two", dbe.password_fingerprint(name, "pw-one")) == "updated"
    assert _ensure(pg_admin_url, name, "pw-two", dbe.password_fingerprint(name, "pw-two")) == "unchanged"

    with _login(pg_admin_url, database=name, role=name, password="pw-two"):
        pass
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _login(pg_admin_url, database=name, role=name, password="pw-one")


def test_postgres_unknown_fingerprint_resets_the_password(pg_admin_url, pg_names):
    name = pg_names("a")
    _ensure(pg_admin_url, name, "pw-one")

    # lost local state: the password cannot be compared, so it is set again
    assert _ensure(pg_admin_url, name, "pw-one", None) == "updated"


def test_postgres_drift_in_owner_and_public_connect_is_repaired(pg_admin_url, pg_names):
    name = pg_names("a")
    _ensure(pg_admin_url, name, "pw")
    with _admin(pg_admin_url) as admin:
        admin.execute(f'ALTER DATABASE "{name}" OWNER TO CURRENT_USER')
        admin.execute(f'GRANT CONNECT ON DATABASE "{name}" TO PUBLIC')

    assert _ensure(pg_admin_url, name, "pw", dbe.password_fingerprint(name, "pw")) == "updated"

    with _admin(pg_admin_url) as admin:
        owner, public = admin.execute(
            "SELECT datdba::regrole::text, EXISTS (SELECT 1 FROM aclexplode(datacl) a WHERE a.grantee = 0)"
            " FROM pg_database WHERE datname = %s", (name,)).fetchone()
    assert (owner, public) == (name, False)


def test_postgres_drift_names_each_difference_and_ensure_repairs_it(pg_admin_url, pg_names):
    name, other = pg_names("a"), pg_names("b")
    _ensure(pg_admin_url, name, "pw")
    assert dbe.postgres_drift(pg_admin_url, database=name, role=name, password="pw") == []
    with _admin(pg_admin_url) as admin:
        admin.execute(f'ALTER ROLE "{name}" NOLOGIN')
        admin.execute(f'CREATE ROLE "{other}"')
        admin.execute(f'GRANT CONNECT ON DATABASE "{name}" TO "{other}"')

    assert dbe.postgres_drift(pg_admin_url, database=name, role=name, password="pw") == [
        ("role.login", True, False), ("database.grants", "the owner only", f"{other}: CONNECT")]
    assert _ensure(pg_admin_url, name, "pw", dbe.password_fingerprint(name, "pw")) == "updated"
    assert dbe.postgres_drift(pg_admin_url, database=name, role=name, password="pw") == []

    with _admin(pg_admin_url) as admin:  # a password set by hand: the fingerprint alone would not notice
        admin.execute(f"ALTER ROLE \"{name}\" PASSWORD 'by-hand'")
    assert dbe.postgres_drift(pg_admin_url, database=name, role=name, password="pw") == [
        ("role.password", "the password in the tenant's secrets", "refused")]
    assert _ensure(pg_admin_url, name, "pw", dbe.password_fingerprint(name, "pw")) == "updated"
    _login(pg_admin_url, database=name, role=name, password="pw").close()
    assert _ensure(pg_admin_url, name, "pw", dbe.password_fingerprint(name, "pw")) == "unchanged"


def test_postgres_tenants_are_isolated(pg_admin_url, pg_names):
    a, b = pg_names("a"), pg_names("b")
    _ensure(pg_admin_url, a, "pw-a")
    _ensure(pg_admin_url, b, "pw-b")

    with _admin(pg_admin_url) as admin:
        public_grants = admin.execute(
            "SELECT d.datname, a.privilege_type FROM pg_database d, aclexplode(d.datacl) a"
            " WHERE d.datname IN (%s, %s) AND a.grantee = 0", (a, b)).fetchall()
    assert public_grants == []
    with _login(pg_admin_url, database=a, role=a, password="pw-a") as own:
        assert own.execute("SELECT current_database()").fetchone() == (a,)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        _login(pg_admin_url, database=b, role=a, password="pw-a")
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        _login(pg_admin_url, database=a, role=b, password="pw-b")


def test_postgres_migrations_run_as_the_tenant_own_the_tables(pg_admin_url, pg_names):
    name = pg_names("a")
    _ensure(pg_admin_url, name, "pw")
    url = dbe.tenant_database_url(pg_admin_url, database=name, role=name, password="pw")

    assert dbe.ensure_migrations(url) == "created"

    with _login(pg_admin_url, database=name, role=name, password="pw") as conn:
        owners = {row[0] for row in conn.execute("SELECT tableowner FROM pg_tables WHERE schemaname = 'public'")}
    assert owners == {name}


def test_postgres_drop_removes_database_and_role(pg_admin_url, pg_names):
    name = pg_names("a")
    _ensure(pg_admin_url, name, "pw")
    held = _login(pg_admin_url, database=name, role=name, password="pw")  # a client still connected

    try:
        assert dbe.drop_postgres_database(pg_admin_url, database=name, role=name) == "deleted"
    finally:
        held.close()
    assert dbe.drop_postgres_database(pg_admin_url, database=name, role=name) == "absent"
    with _admin(pg_admin_url) as admin:
        assert admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone() is None
        assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None


def _outsider_connected(pg_admin_url: str, pg_names, database: str) -> psycopg.Connection:
    """A session in `database` of a role the admin is no member of: like an autovacuum worker, which has no role,
    it is a process that DROP DATABASE ... WITH (FORCE) may not end."""
    outsider = pg_names("o")
    with _admin(pg_admin_url) as admin:
        admin.execute(psycopg.sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'pw'").format(psycopg.sql.Identifier(outsider)))
        admin.execute(psycopg.sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
            psycopg.sql.Identifier(database), psycopg.sql.Identifier(outsider)))
    return _login(pg_admin_url, database=database, role=outsider, password="pw")


def test_postgres_drop_waits_for_a_process_it_may_not_end(pg_admin_url, pg_names):
    name = pg_names("a")
    _ensure(pg_admin_url, name, "pw")
    held = _outsider_connected(pg_admin_url, pg_names, name)
    threading.Timer(0.5, held.close).start()  # the process goes away on its own, as autovacuum does

    assert dbe.drop_postgres_database(pg_admin_url, database=name, role=name) == "deleted"
    with _admin(pg_admin_url) as admin:
        assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None


def test_postgres_drop_gives_up_with_a_clear_error_when_the_process_stays(pg_admin_url, pg_names):
    name = pg_names("a")
    _ensure(pg_admin_url, name, "pw")
    held = _outsider_connected(pg_admin_url, pg_names, name)
    try:
        with _admin(pg_admin_url) as admin, pytest.raises(psycopg.errors.InsufficientPrivilege):
            dbe.drop_database(admin, name, patience_seconds=0.3)
        with _admin(pg_admin_url) as admin:  # nothing half-done: the database is still there, whole
            assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
    finally:
        held.close()


def test_postgres_unreachable_server_is_a_clear_error_without_the_password():
    url = "postgresql+psycopg://fsp_admin:s3cret@127.0.0.1:1/postgres"

    with pytest.raises(ProvisioningError) as caught:
        dbe.ensure_postgres_database(url, database="x", role="x", password="pw")
    assert "cannot connect" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_tenant_url_leaves_the_peer_socket_for_tcp():
    socket = "postgresql+psycopg://root@/postgres?host=/var/run/postgresql&port=5433"
    remote = "postgresql://admin:x@db.example:6432/postgres?sslmode=require"

    assert dbe.tenant_database_url(socket, database="fsp_bj", role="fsp_bj", password="p") == \
        "postgresql+psycopg://fsp_bj:p@127.0.0.1:5433/fsp_bj"
    assert dbe.tenant_database_url(remote, database="fsp_bj", role="fsp_bj", password="p") == \
        "postgresql+psycopg://fsp_bj:p@db.example:6432/fsp_bj?sslmode=require"
    assert dbe.mask_url("postgresql+psycopg://fsp_bj:p@127.0.0.1:5433/fsp_bj") == \
        "postgresql+psycopg://fsp_bj:***@127.0.0.1:5433/fsp_bj"
    assert dbe.url_without_password("postgresql+psycopg://fsp_bj:p@127.0.0.1/fsp_bj") == \
        "postgresql+psycopg://fsp_bj@127.0.0.1/fsp_bj"


# --- migrations, on both backends -------------------------------------------------------------------------------

NEXT_REVISION = '''"""probe table: stands for the next migration a new kit version ships"""
import sqlalchemy as sa
from alembic import op

revision = "9999_probe"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("probe", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("probe")
'''


@pytest.fixture
def newer_migrations(tmp_path: Path) -> Path:
    """A copy of the migrations with one more revision on top, as the next kit version would ship."""
    newer = tmp_path / "migrations-next"
    shutil.copytree(db.MIGRATIONS_DIR, newer, ignore=shutil.ignore_patterns("__pycache__"))
    head, = dbe.migration_heads()
    (newer / "versions" / "9999_probe.py").write_text(NEXT_REVISION.format(down=head))
    return newer


def _tables(url: str) -> set[str]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrations_created_unchanged_updated(empty_database_url, newer_migrations):
    assert dbe.ensure_migrations(empty_database_url) == "created"
    assert dbe.current_revision(empty_database_url) == dbe.migration_heads()
    assert dbe.ensure_migrations(empty_database_url) == "unchanged"

    assert dbe.ensure_migrations(empty_database_url, migrations_dir=newer_migrations) == "updated"
    assert dbe.current_revision(empty_database_url) == {"9999_probe"}
    assert "probe" in _tables(empty_database_url)
    assert dbe.ensure_migrations(empty_database_url, migrations_dir=newer_migrations) == "unchanged"


BROKEN_REVISION = NEXT_REVISION.replace(
    'op.create_table("probe", sa.Column("id", sa.Integer, primary_key=True))',
    'op.create_table("probe", sa.Column("id", sa.Integer, primary_key=True))\n'
    '    op.add_column("cases", sa.Column("probe_note", sa.Text))\n'
    '    op.execute("INSERT INTO no_such_table VALUES (1)")')


def test_a_migration_that_fails_halfway_leaves_the_database_as_it_was(empty_database_url, newer_migrations):
    dbe.ensure_migrations(empty_database_url)
    head = dbe.current_revision(empty_database_url)
    (newer_migrations / "versions" / "9999_probe.py").write_text(BROKEN_REVISION.format(down=next(iter(head))))

    with pytest.raises(ProvisioningError, match="no_such_table"):
        dbe.ensure_migrations(empty_database_url, migrations_dir=newer_migrations)
    # one transaction on SQLite as on PostgreSQL: neither the new table nor the new column stayed
    assert dbe.current_revision(empty_database_url) == head
    assert "probe" not in _tables(empty_database_url)
    engine = create_engine(empty_database_url, poolclass=NullPool)
    try:
        assert "probe_note" not in {column["name"] for column in inspect(engine).get_columns("cases")}
    finally:
        engine.dispose()


def test_migrations_at_head_do_not_start_alembic(empty_database_url, monkeypatch):
    dbe.ensure_migrations(empty_database_url)

    def no_alembic(*_args, **_kwargs):
        raise AssertionError("alembic command machinery invoked for a database at head")

    monkeypatch.setattr(dbe.command, "upgrade", no_alembic)
    started = time.perf_counter()
    assert dbe.ensure_migrations(empty_database_url) == "unchanged"
    assert time.perf_counter() - started < 1.0


def test_migration_heads_are_the_scripts_heads():
    assert dbe.migration_heads() == set(ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_heads())
