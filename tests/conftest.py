"""Fixtures every test uses: a fresh, fully migrated registry database per test, on SQLite and on PostgreSQL.

A test that asks for `database_url` (or for `settings`, `app`, `client`, `mint` or `session`, which build on it)
runs once per backend, with the ids `[sqlite]` and `[postgresql]`:

- sqlite: the file of a database migrated once per session is copied into the test's `tmp_path`;
- postgresql: `CREATE DATABASE fsp_t_<pid>_<hex> TEMPLATE <session template>` on the real server that `make test`
  starts (scripts/postgres-test-server). After the test, the database is emptied and kept for the next one if
  its schema is still the template's and nobody is connected (`pg_recycling`: half a second of server CPU
  saved per test), else dropped WITH (FORCE); databases left by killed runs (their pid is gone) are dropped at
  the next start. The server's admin URL comes from
  FSP_TEST_PG_URL; a postgresql test without it fails and says to run `make test`.

`--backend=sqlite` (or `postgresql`) runs only that half, e.g. `.venv/bin/pytest --backend=sqlite` for a quick
run without PostgreSQL; the default `all` runs both. `empty_database_url` gives an empty, unmigrated database
on the same terms, and `run_alembic` runs an Alembic command against a URL (for migration tests).

FSP_* variables of the calling shell (except FSP_TEST_*) are removed at start: a developer's demo settings
must not leak into the Settings the tests build.
"""
from __future__ import annotations

import gc
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from alembic import command
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import create_engine, make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session

import pg_recycling

if TYPE_CHECKING:  # registry is imported when first used, so a broken registry fails only the tests using it
    from fastapi import FastAPI

    from registry.config import Settings

BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--backend", choices=(*BACKENDS, "all"), default="all",
                     help="run the database tests on this backend only (default: all)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "postgresql_only: runs on the PostgreSQL backend only")
    config.addinivalue_line("markers", "backends_by(argname, table): parametrises argname with the table's values, "
                                       "each on the backends the table gives it (value, backends)")
    for name in [name for name in os.environ if name.startswith("FSP_") and not name.startswith("FSP_TEST_")]:
        del os.environ[name]


def pytest_collection_finish(session: pytest.Session) -> None:
    # what collecting imported (the registry, the portal, their libraries) lives as long as the run: out of the
    # garbage collector's sight, so that each full collection walks only what tests made
    import registry.app  # noqa: F401  (the app's modules, whether or not a collected module imported them)

    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--backend=sqlite leaves out the PostgreSQL-only tests too: they are deselected, and reported as such."""
    if config.getoption("backend") != "sqlite":
        return
    keep, drop = [], []
    for item in items:
        needs_postgres = "pg_admin_url" in getattr(item, "fixturenames", ()) and "db_backend" not in getattr(
            item, "fixturenames", ()) or item.get_closest_marker("postgresql_only") is not None
        (drop if needs_postgres else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("backend")
        backends = BACKENDS if chosen == "all" else (chosen,)
        if metafunc.definition.get_closest_marker("postgresql_only"):  # a PostgreSQL behaviour, e.g. its planner
            backends = tuple(backend for backend in backends if backend == "postgresql") or ("postgresql",)
        by_value = metafunc.definition.get_closest_marker("backends_by")
        if by_value is None:
            metafunc.parametrize("db_backend", backends, indirect=True)
            return
        # a long, backend-agnostic check repeated per value: each value on its own backends, together both
        argname, table = by_value.args
        pairs = [(value, backend) for value, on in table
                 for backend in ([b for b in on if b in backends] or backends)]  # --backend narrows, never drops
        metafunc.parametrize((argname, "db_backend"), pairs, indirect=["db_backend"],
                             ids=[f"{getattr(value, 'slug', value)}-{backend}" for value, backend in pairs])


def _run_alembic(url: str, action: Callable[..., object], *args: object) -> None:
    """`action(config, *args)` (an `alembic.command` function) on the database at `url`, committed."""
    from registry.db import alembic_config, explicit_sqlite_transactions

    engine = create_engine(url, poolclass=NullPool)
    if engine.dialect.name == "sqlite":  # as migrations/env.py runs them: one transaction
        explicit_sqlite_transactions(engine)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            # the explicit connection wins over FSP_DATABASE_URL; pytest keeps its own logging set-up
            config.attributes.update(connection=connection, skip_logging_config=True)
            action(config, *args)
    finally:
        engine.dispose()


@pytest.fixture(autouse=True)
def _apps_let_go() -> Iterator[None]:
    """After each test, FastAPI's caches of endpoint classification are emptied: they hold endpoints that close over
    their app (4,096 of each), so every app a test built stayed alive, and the heap each garbage collection walks
    grew by a few hundred MB per hundred tests."""
    yield
    from fastapi.dependencies import models

    for name in ("_is_gen_callable_cached", "_is_async_gen_callable_cached", "_is_coroutine_callable_cached"):
        cached = getattr(models, name, None)
        if cached is not None and hasattr(cached, "cache_clear"):
            cached.cache_clear()


@pytest.fixture(scope="session")
def run_alembic() -> Callable[..., None]:
    """`run_alembic(url, alembic.command.upgrade, "head")`: an Alembic command against one database."""
    return _run_alembic


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    """`sqlite` or `postgresql`: the backend this test runs on (parametrised, narrowed by --backend)."""
    return request.param


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    """The admin URL of the test PostgreSQL server (a CREATEDB role), from FSP_TEST_PG_URL."""
    url = os.environ.get("FSP_TEST_PG_URL")
    if not url:
        pytest.fail("FSP_TEST_PG_URL is not set: run the tests with `make test`, which starts PostgreSQL",
                    pytrace=False)
    return url


@pytest.fixture(scope="session")
def _pg_admin(pg_admin_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(_libpq(pg_admin_url), autocommit=True) as connection:
        _drop_databases_of_dead_sessions(connection)
        yield connection


def drop_database(admin: psycopg.Connection, name: str) -> None:
    from infra.ensure.database import drop_database as drop  # imported when used, like registry

    drop(admin, name)


def _drop_databases_of_dead_sessions(admin: psycopg.Connection) -> None:
    # a killed run (timeout, second Ctrl-C) skips its teardown; its databases carry its pid
    if not str(admin.info.host).startswith("/"):
        return  # only a server on this machine's Unix socket shares our pids
    rows = admin.execute(r"SELECT datname FROM pg_database WHERE datname ~ '^fsp_(t|e|template)_[0-9]+_[0-9a-f]{12}$'")
    for (name,) in rows.fetchall():
        if not Path(f"/proc/{name.split('_')[2]}").exists():
            drop_database(admin, name)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_url(admin_url: str, database: str) -> str:
    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


@contextmanager
def _pg_database(request: pytest.FixtureRequest, prefix: str, template: str | None = None) -> Iterator[str]:
    """A new database (a copy of `template`, or empty), dropped on exit whoever is still connected."""
    admin: psycopg.Connection = request.getfixturevalue("_pg_admin")
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(6)}"
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    admin.execute(create)
    try:
        yield _pg_url(request.getfixturevalue("pg_admin_url"), name)
    finally:
        drop_database(admin, name)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "registry.db"
    _run_alembic(f"sqlite:///{path}", command.upgrade, "head")
    return path


@pytest.fixture(scope="session")
def _pg_databases(request: pytest.FixtureRequest) -> Iterator[pg_recycling.Recycler]:
    """The migrated template of this session's PostgreSQL databases, and the clean copies kept for reuse."""
    with _pg_database(request, "fsp_template") as url:
        _run_alembic(url, command.upgrade, "head")
        name = make_url(url).database
        admin: psycopg.Connection = request.getfixturevalue("_pg_admin")
        with psycopg.connect(_libpq(url), autocommit=True) as connection:
            template = pg_recycling.learn_template(connection, name)
        # CREATE DATABASE ... TEMPLATE fails while anyone is connected to the template: nobody may connect
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
        recycler = pg_recycling.Recycler(admin, _libpq(request.getfixturevalue("pg_admin_url")), template)
        try:
            yield recycler
        finally:
            for kept in recycler.clean:
                drop_database(admin, kept)


@contextmanager
def _fresh_database(db_backend: str, request: pytest.FixtureRequest, directory: Path) -> Iterator[str]:
    """A fresh, empty, fully migrated registry database (its file in `directory` on SQLite)."""
    if db_backend == "sqlite":
        path = directory / "registry.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    recycler: pg_recycling.Recycler = request.getfixturevalue("_pg_databases")
    admin: psycopg.Connection = request.getfixturevalue("_pg_admin")
    name = recycler.take()
    if name is None:
        name = f"fsp_t_{os.getpid()}_{secrets.token_hex(6)}"
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                      sql.Identifier(recycler.template.name)))
        recycler.handed_out(name)
    try:
        yield _pg_url(request.getfixturevalue("pg_admin_url"), name)
    finally:
        if not recycler.give_back(name):
            drop_database(admin, name)


@pytest.fixture
def fresh_database(db_backend: str, request: pytest.FixtureRequest) -> Callable[[Path], AbstractContextManager[str]]:
    """`with fresh_database(directory) as url`: another database like `database_url`'s, e.g. a ministry's."""
    return lambda directory: _fresh_database(db_backend, request, directory)


@pytest.fixture
def database_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty, fully migrated registry database that only this test uses."""
    with _fresh_database(db_backend, request, tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def module_database_url(db_backend: str, request: pytest.FixtureRequest,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`database_url` shared by the tests of one module, which overrides `db_backend` with a module-scoped
    fixture (`return request.param`): data built once for many checks, e.g. the authorization matrix."""
    with _fresh_database(db_backend, request, tmp_path_factory.mktemp("module-db")) as url:
        yield url


@pytest.fixture
def empty_database_url(db_backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new database without any table (not even alembic_version) that only this test uses."""
    if db_backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
    else:
        with _pg_database(request, "fsp_e") as url:
            yield url


@pytest.fixture(scope="session")
def _keys_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from registry.security.keys import ensure_keys

    keys = tmp_path_factory.mktemp("keys-template") / "keys"
    ensure_keys(keys)
    return keys


@pytest.fixture
def settings(database_url: str, tmp_path: Path, _keys_template: Path) -> Settings:
    """Beijing's settings on the test's database; its keys a copy of keys made once per session (making an RSA and
    an SM2 key for every test cost a fifth of an app's start; tests of making keys make their own)."""
    from registry.config import Settings

    shutil.copytree(_keys_template, tmp_path / "keys")
    return Settings(tenant_code="110000", tenant_slug="beijing", database_url=database_url,
                    keys_dir=tmp_path / "keys", environment="development")


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    from registry.app import create_app

    app = create_app(settings)
    yield app
    app.state.ctx.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def mint(app: FastAPI) -> Callable[..., dict[str, str]]:
    """`mint("registrar", institution_id=...)` → the Authorization header of a development token."""
    def _mint(*roles: str, institution_id=None, subject: str = "tester") -> dict[str, str]:
        token = app.state.ctx.issuer.mint(subject, list(roles), institution_id=institution_id)
        return {"Authorization": f"Bearer {token}"}

    return _mint


@pytest.fixture
def session(app: FastAPI) -> Iterator[Session]:
    """A session for looking at the database directly, between requests to the app."""
    # end each look with session.rollback(): on SQLite an open read transaction keeps seeing its old snapshot
    with Session(app.state.ctx.engine) as session:
        yield session
