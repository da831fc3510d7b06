"""`fsp up --postgres`: a database and login role per tenant on the real server; the password only in secrets/."""
import json
import stat
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from provisioning_cli.targets.local import LocalTarget
from tenants import load_catalog


@pytest.fixture
def on_postgres(home: Path, pg_admin_url: str):
    """The tenants this test provisions on PostgreSQL are purged afterwards, whatever happened."""
    yield pg_admin_url
    target = LocalTarget(home, load_catalog())
    for spec in reversed(target.catalog.tenants):  # provinces before the ministry they are registered with
        if target.home.tenant(spec.slug).state.exists():
            target.purge(spec, postgres_url=pg_admin_url)


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def test_up_on_postgres_keeps_the_password_in_secrets_only(fsp, fsp_json, home, on_postgres):
    first = fsp("up", "beijing", "--postgres", on_postgres, "--json")
    again = fsp("up", "beijing", "--json")  # the server DSN is remembered (in secrets/)

    assert {r["outcome"] for r in json.loads(first.stdout)["resources"]} == {"created"}
    assert {r["outcome"] for r in json.loads(again.stdout)["resources"]} == {"unchanged"}
    tenant_dir = home / "tenants" / "beijing"
    secret = tenant_dir / "secrets" / "database-url"
    url = make_url(secret.read_text().strip())
    password = url.password
    assert password and len(password) >= 32
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    state, settings = (tenant_dir / "state.json").read_text(), (tenant_dir / "tenant.json").read_text()
    status = fsp("status", "--json")
    for text in (state, settings, first.stdout, first.stderr, again.stdout, status.stdout, fsp("status").stdout):
        assert password not in text
    assert json.loads(settings)["database_url"] == f"postgresql+psycopg://{url.username}@{url.host}:{url.port}/{url.database}"
    row = next(r for r in json.loads(status.stdout) if r["tenant"] == "beijing")
    assert row["database"] == f"postgresql+psycopg://{url.username}:***@{url.host}:{url.port}/{url.database}"
    assert row["backend"] == "postgresql" and row["migration"] == row["head"]


def test_postgres_tenants_cannot_reach_each_other_and_purge_drops_them(fsp, fsp_json, home, on_postgres):
    fsp("up", "beijing", "--postgres", on_postgres)
    beijing = make_url((home / "tenants" / "beijing" / "secrets" / "database-url").read_text().strip())
    ministry = make_url((home / "tenants" / "ministry" / "secrets" / "database-url").read_text().strip())

    with psycopg.connect(_libpq(beijing.render_as_string(hide_password=False))) as own:
        assert own.execute("SELECT count(*) FROM institutions").fetchone() == (0,)
    into_ministry = beijing.set(database=ministry.database).render_as_string(hide_password=False)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(_libpq(into_ministry))

    rows = fsp_json("down", "beijing", "--purge", "--yes")

    assert {r["resource"]: r["outcome"] for r in rows}["database"] == "deleted"
    with psycopg.connect(_libpq(on_postgres), autocommit=True) as admin:
        assert admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (beijing.database,)).fetchone() is None
        assert admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (beijing.username,)).fetchone() is None


def test_an_existing_ministry_keeps_its_backend_when_a_province_goes_to_postgres(fsp, fsp_json, on_postgres):
    fsp("up", "tianjin")  # the ministry and tianjin on SQLite

    rows = fsp_json("up", "beijing", "--postgres", on_postgres)["resources"]

    assert {r["outcome"] for r in rows if r["tenant"] == "ministry"} == {"unchanged"}
    backends = {r["tenant"]: r["backend"] for r in fsp_json("status") if r["provisioned"]}
    assert backends == {"ministry": "sqlite", "tianjin": "sqlite", "beijing": "postgresql"}
