"""A tenant's registry database: an SQLite file, or a PostgreSQL database owned by the tenant's own login role."""
import os
import time
from functools import lru_cache
from pathlib import Path

import psycopg
from alembic import command
from alembic.script import ScriptDirectory
from psycopg import sql
from sqlalchemy import URL, create_engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from infra.ensure import Outcome, ProvisioningError, Removal
from registry import db
from registry.security import crypto


def ensure_sqlite_database(path: Path) -> Outcome:
    """An SQLite database file at `path` that only its owner can read (0600)."""
    if path.exists():
        if path.stat().st_mode & 0o777 == 0o600:
            return "unchanged"
        path.chmod(0o600)
        return "updated"
    path.parent.mkdir(parents=True, exist_ok=True)
    # an empty file is a valid SQLite database; created 0600 so the data is never readable by others
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return "created"


def password_fingerprint(role: str, password: str) -> str:
    """What local state keeps instead of the password, to tell whether the role's password must be reset."""
    return crypto.sm3_hex(f"{role}\0{password}".encode())


def mask_url(url: str) -> str:
    """The URL with its password shown as ***, for output and logs."""
    return make_url(url).render_as_string(hide_password=True)


def url_without_password(url: str) -> str:
    """The URL with no password at all, for files that must never hold one."""
    u = make_url(url)
    # URL.set(password=None) keeps the old password: build the URL afresh
    return URL.create(u.drivername, username=u.username, host=u.host, port=u.port, database=u.database,
                      query=u.query).render_as_string(hide_password=False)


def tenant_database_url(admin_url: str, *, database: str, role: str, password: str) -> str:
    """The URL a tenant's registry uses: its own role and password, on the admin URL's server."""
    url = make_url(admin_url)
    query = dict(url.query)
    host, port = url.host, url.port
    socket_host = query.pop("host", None)
    if isinstance(socket_host, tuple):
        socket_host = socket_host[0]
    port = port or (int(query.pop("port")) if "port" in query else None)
    if not host and (socket_host is None or socket_host.startswith("/")):
        # the local socket authenticates by OS user (peer); the tenant role has none, so it logs in over TCP
        host = "127.0.0.1"
    elif not host:
        host = socket_host
    return url.set(drivername="postgresql+psycopg", username=role, password=password, host=host,
                   port=port or 5432, database=database, query=query).render_as_string(hide_password=False)


def _libpq(url: str) -> str:
    """A SQLAlchemy URL as a libpq connection string psycopg accepts."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _admin(admin_url: str) -> psycopg.Connection:
    try:
        return psycopg.connect(_libpq(admin_url), autocommit=True, connect_timeout=10)
    except psycopg.Error as err:
        raise ProvisioningError(f"cannot connect to PostgreSQL at {mask_url(admin_url)}: {err}") from None


# what the tenant's login role is declared to be: it logs in and has no other power
ROLE_ATTRIBUTES = {"login": ("rolcanlogin", True), "superuser": ("rolsuper", False),
                   "createdb": ("rolcreatedb", False), "createrole": ("rolcreaterole", False),
                   "bypassrls": ("rolbypassrls", False), "replication": ("rolreplication", False)}
# a difference from the declaration: (field, declared, live)
Difference = tuple[str, object, object]


def ensure_postgres_database(admin_url: str, *, database: str, role: str, password: str,
                             known_fingerprint: str | None = None) -> Outcome:
    """A login role with no other power and a database it owns, which no other role may connect to.

    The password cannot be read back, so `known_fingerprint` (what `password_fingerprint` gave when it was last
    set, None when unknown) decides whether an existing role's password is reset; a password changed behind our
    back is found by logging in with it, and set again.
    """
    created = changed = False
    with _admin(admin_url) as admin:
        try:
            role_id = sql.Identifier(role)
            verifier = admin.pgconn.encrypt_password(password.encode(), role.encode())  # only a hash goes over
            attributes = _role_attributes(admin, role)
            if attributes is None:
                admin.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}")
                              .format(role_id, sql.Literal(verifier.decode())))
                created = True
            else:
                # only what differs: a CREATEROLE admin may not even name REPLICATION or BYPASSRLS
                wrong = [("" if declared else "NO") + name.upper()
                         for name, (_, declared) in ROLE_ATTRIBUTES.items() if attributes[name] != declared]
                if known_fingerprint != password_fingerprint(role, password) or wrong:
                    admin.execute(sql.SQL("ALTER ROLE {} " + " ".join(wrong) + " PASSWORD {}")
                                  .format(role_id, sql.Literal(verifier.decode())))
                    changed = True
            # a non-superuser admin may give a database to a role only as a member of it
            if not admin.execute("SELECT pg_has_role(current_user, %s, 'MEMBER')", (role,)).fetchone()[0]:
                admin.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(role_id))
            db_id = sql.Identifier(database)
            found = _database_facts(admin, database)
            if found is None:
                admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(db_id, role_id))
                created, others = True, {"PUBLIC": ["CONNECT"]}
            else:
                owner, others = found
                if owner != role:
                    admin.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(db_id, role_id))
                    changed = True
            for grantee in others:  # PUBLIC's default CONNECT included
                who = sql.SQL("PUBLIC") if grantee == "PUBLIC" else sql.Identifier(grantee)
                admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM {}").format(db_id, who))
                changed = True
            if not admin.execute("SELECT has_database_privilege(%s, %s, 'CONNECT')", (role, database)).fetchone()[0]:
                admin.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db_id, role_id))
                changed = True
            if not created and not changed and _login_refused(admin_url, database=database, role=role,
                                                              password=password):
                admin.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role_id, sql.Literal(verifier.decode())))
                changed = True
        except psycopg.Error as err:
            raise ProvisioningError(f"database {database} (role {role}) at {mask_url(admin_url)}: {err}") from None
    return "created" if created else "updated" if changed else "unchanged"


def postgres_drift(admin_url: str, *, database: str, role: str, password: str) -> list[Difference]:
    """How the tenant's role and database differ from what `ensure_postgres_database` makes (empty: not at all)."""
    with _admin(admin_url) as admin:
        try:
            attributes = _role_attributes(admin, role)
            found = _database_facts(admin, database)
            may_connect = found is not None and attributes is not None and admin.execute(
                "SELECT has_database_privilege(%s, %s, 'CONNECT')", (role, database)).fetchone()[0]
        except psycopg.Error as err:
            raise ProvisioningError(f"reading database {database} (role {role}) at {mask_url(admin_url)}: {err}") from None
    if attributes is None:
        return [("role", "present", "absent")] + ([] if found else [("database", "present", "absent")])
    differences: list[Difference] = [(f"role.{name}", declared, attributes[name])
                                     for name, (_, declared) in ROLE_ATTRIBUTES.items() if attributes[name] != declared]
    if found is None:
        return [*differences, ("database", "present", "absent")]
    owner, others = found
    if owner != role:
        differences.append(("database.owner", role, owner))
    if others:
        differences.append(("database.grants", "the owner only",
                            "; ".join(f"{who}: {', '.join(privileges)}" for who, privileges in others.items())))
    if not may_connect:
        differences.append(("database.connect", f"{role} may connect", "revoked"))
    elif attributes["login"] and _login_refused(admin_url, database=database, role=role, password=password):
        differences.append(("role.password", "the password in the tenant's secrets", "refused"))
    return differences


def _role_attributes(admin: psycopg.Connection, role: str) -> dict[str, bool] | None:
    columns = sql.SQL(", ").join(sql.Identifier(column) for column, _ in ROLE_ATTRIBUTES.values())
    row = admin.execute(sql.SQL("SELECT {} FROM pg_roles WHERE rolname = %s").format(columns), (role,)).fetchone()
    return None if row is None else dict(zip(ROLE_ATTRIBUTES, row, strict=True))


def _database_facts(admin: psycopg.Connection, database: str) -> tuple[str, dict[str, list[str]]] | None:
    """The database's owner, and every other role's privileges on it (PUBLIC's by default); None: no database."""
    row = admin.execute(
        "SELECT r.rolname, coalesce((SELECT json_object_agg(grantee, privileges) FROM ("
        "   SELECT coalesce(g.rolname, 'PUBLIC') AS grantee, json_agg(a.privilege_type ORDER BY a.privilege_type)"
        "          AS privileges"
        "   FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a LEFT JOIN pg_roles g ON g.oid = a.grantee"
        "   WHERE a.grantee <> d.datdba GROUP BY 1) others), '{}')"
        " FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname = %s", (database,)).fetchone()
    return None if row is None else (row[0], dict(sorted(row[1].items())))


def _login_refused(admin_url: str, *, database: str, role: str, password: str) -> bool:
    """The server refuses the tenant's stored password (any other failure is not the password's)."""
    url = tenant_database_url(admin_url, database=database, role=role, password=password)
    try:
        psycopg.connect(_libpq(url), connect_timeout=10).close()
    except psycopg.OperationalError as err:
        return getattr(err, "sqlstate", None) == "28P01" or "password authentication failed" in str(err)
    return False


def drop_database(admin: psycopg.Connection, database: str, *, patience_seconds: float = 10.0) -> None:
    """DROP DATABASE IF EXISTS ... WITH (FORCE), on an autocommit connection.

    A role without superuser cannot force out an autovacuum worker (a process of no role): PostgreSQL refuses
    with InsufficientPrivilege while one is busy in the database. The worker is done or gone within moments, so
    the drop is tried again until `patience_seconds` have passed.
    """
    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
    deadline = time.monotonic() + patience_seconds
    while True:
        try:
            admin.execute(statement)
            return
        except psycopg.errors.InsufficientPrivilege:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def drop_postgres_database(admin_url: str, *, database: str, role: str) -> Removal:
    """Drop the tenant's database (even with clients connected) and then its role."""
    with _admin(admin_url) as admin:
        try:
            found = admin.execute("SELECT (SELECT count(*) FROM pg_database WHERE datname = %s)"
                                  " + (SELECT count(*) FROM pg_roles WHERE rolname = %s)", (database, role)).fetchone()[0]
            drop_database(admin, database)
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        except psycopg.Error as err:
            raise ProvisioningError(f"dropping database {database} (role {role}): {err}") from None
    return "deleted" if found else "absent"


@lru_cache
def migration_heads(migrations_dir: Path = db.MIGRATIONS_DIR) -> frozenset[str]:
    """The newest revisions the kit ships; read once per process."""
    return frozenset(ScriptDirectory.from_config(_alembic_config("sqlite://", migrations_dir)).get_heads())


@lru_cache
def known_revisions(migrations_dir: Path = db.MIGRATIONS_DIR) -> frozenset[str]:
    """Every revision the kit ships: a database at another one was migrated by a newer kit."""
    script = ScriptDirectory.from_config(_alembic_config("sqlite://", migrations_dir))
    return frozenset(revision.revision for revision in script.walk_revisions())


def _alembic_config(url: str, migrations_dir: Path):
    config = db.alembic_config(url)
    config.set_main_option("script_location", str(migrations_dir))
    return config


def current_revision(url: str) -> frozenset[str]:
    """The revisions the database at `url` is at (empty when it has no schema yet)."""
    engine = create_engine(url, poolclass=NullPool, hide_parameters=True)
    try:
        return frozenset(db.current_revisions(engine))
    except SQLAlchemyError as err:
        raise ProvisioningError(f"cannot read the schema revision of {mask_url(url)}: {err.orig or err}") from None
    finally:
        engine.dispose()


def ensure_migrations(url: str, *, migrations_dir: Path = db.MIGRATIONS_DIR) -> Outcome:
    """The database schema at the newest revision: created from empty, updated from an older one.

    At head it only reads the revision table, so a no-op run stays fast.
    """
    current = current_revision(url)
    if current == migration_heads(migrations_dir):
        return "unchanged"
    try:
        command.upgrade(_alembic_config(url, migrations_dir), "heads")
    except SQLAlchemyError as err:
        raise ProvisioningError(f"migrating {mask_url(url)}: {err.orig or err}") from None
    return "updated" if current else "created"


# --- databases restored from a backup (`fsp restore`, `fsp backup drill`) ---------------------------------------

def database_exists(admin_url: str, database: str) -> bool:
    with _admin(admin_url) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is not None


def create_restore_database(admin_url: str, *, database: str, role: str) -> None:
    """A new, empty database owned by the tenant's role, which no other role may connect to; never an existing one."""
    with _admin(admin_url) as admin:
        try:
            if admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
                raise ProvisioningError(f"database {database} already exists: restore into a new one")
            db_id = sql.Identifier(database)
            admin.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(db_id, sql.Identifier(role)))
            admin.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db_id))
        except psycopg.Error as err:
            raise ProvisioningError(f"creating database {database} at {mask_url(admin_url)}: {err}") from None


def drop_restore_database(admin_url: str, database: str) -> None:
    with _admin(admin_url) as admin:
        try:
            drop_database(admin, database)
        except psycopg.Error as err:
            raise ProvisioningError(f"dropping database {database}: {err}") from None


def swap_in_database(admin_url: str, *, restored: str, live: str) -> None:
    """The restored database takes the live one's name (its clients are cut off; the live one is dropped)."""
    with _admin(admin_url) as admin:
        try:
            drop_database(admin, live)
            admin.execute(sql.SQL("ALTER DATABASE {} RENAME TO {}").format(sql.Identifier(restored), sql.Identifier(live)))
        except psycopg.Error as err:
            raise ProvisioningError(f"putting the restored database {restored} in place of {live}: {err}") from None
