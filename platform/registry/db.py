"""Engine and sessions of one app: built per app, never at module level."""
import functools
from collections.abc import Iterator
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

from registry.config import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def make_engine(settings: Settings) -> Engine:
    """An engine for the tenant's database; SQLite gets WAL and explicit transactions. Statement parameters never
    appear in error messages (and so in logs): they hold names and ID numbers."""
    if settings.is_sqlite:
        engine = create_engine(settings.database_url, connect_args={"check_same_thread": False, "timeout": 30},
                               hide_parameters=True)
        _serialise_sqlite_writers(engine)
        return engine
    # no pre-ping: it costs a round trip per request; a dropped connection invalidates the pool on first use.
    # Custom plans only: a generic plan cached while `cases` was small (a new tenant) or before an archive backfill
    # scans the whole table on every duplicate check until autovacuum re-analyses it
    return create_engine(
        settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_size, pool_recycle=1800,
        connect_args={"options": "-c plan_cache_mode=force_custom_plan"},
        hide_parameters=True,  # an error's message must never carry personal data into a log
    )


def _serialise_sqlite_writers(engine: Engine) -> None:
    # writers take the lock with their first statement (sequences.lock), and WAL lets readers go on meanwhile
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    explicit_sqlite_transactions(engine)


def explicit_sqlite_transactions(engine: Engine) -> Engine:
    """pysqlite's implicit transactions off, so that BEGIN is ours: a transaction holds every statement, DDL too
    (pysqlite would commit each CREATE or ALTER on its own: a failed migration half applied, a sync per statement)."""
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")

    return engine


def session_scope(engine: Engine) -> Iterator[Session]:
    """One session per request; the service decides when to commit."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


def alembic_config(database_url: str) -> Config:
    config = Config(str(MIGRATIONS_DIR.parent / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["skip_logging_config"] = True  # a library call must not reset the caller's logging
    return config


def migration_heads() -> set[str]:
    """The revisions this kit's migrations end at (read once: Alembic compiles every script to find them)."""
    return set(_migration_heads())


@functools.cache
def _migration_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def upgrade_to_head(database_url: str) -> None:
    """Bring a database to the newest schema (what `alembic upgrade head` does)."""
    from alembic import command

    command.upgrade(alembic_config(database_url), "head")
