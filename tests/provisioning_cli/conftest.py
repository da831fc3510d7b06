"""Running `fsp` in-process against a fresh $FSP_HOME per test."""
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from provisioning_cli.main import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch):
    # a developer's own FSP_CATALOG / FSP_HOME / FSP_POSTGRES_URL must not change what these tests see
    for name in ("FSP_CATALOG", "FSP_HOME", "FSP_POSTGRES_URL", "FSP_BACKUP_KEY", "FSP_BACKUP_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "fsp-home"


@pytest.fixture
def fsp(home: Path) -> Callable[..., Result]:
    """`fsp("up", "beijing", ok=True, input=None)` with --home set; asserts exit 0 (ok) or 1 (not ok)."""
    def run(*args: str, ok: bool = True, input: str | None = None) -> Result:
        result = runner.invoke(app, [*args, "--home", str(home)], input=input)
        expected = 0 if ok else 1
        assert result.exit_code == expected, \
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\n{result.exception!r}"
        assert "Traceback" not in result.stdout + result.stderr
        return result

    return run


@pytest.fixture
def fsp_json(fsp) -> Callable[..., object]:
    """`fsp_json("status")`: the command's --json output, parsed."""
    return lambda *args: json.loads(fsp(*args, "--json").stdout)


@pytest.fixture
def tenant(db_backend: str, home: Path, fsp, request: pytest.FixtureRequest):
    """Beijing provisioned on this test's backend (purged afterwards on PostgreSQL); yields its LocalTarget."""
    from provisioning_cli.targets.local import LocalTarget
    from tenants import load_catalog

    postgres = request.getfixturevalue("pg_admin_url") if db_backend == "postgresql" else None
    fsp("up", "beijing", *(("--postgres", postgres) if postgres else ()))
    local = LocalTarget(home, load_catalog())
    yield local
    for spec in reversed(local.catalog.tenants):  # provinces before the ministry they are registered with
        if postgres and local.home.tenant(spec.slug).state.exists():
            local.purge(spec, postgres_url=postgres)


@pytest.fixture
def write_cases(tenant):
    """`write_cases(n)`: n cases with ID numbers declared through beijing's API; returns {case id: ID number}."""
    import uuid

    from fastapi.testclient import TestClient

    from registry.app import create_app
    from tests.factories import case_payload, create_institution

    def write(n: int) -> dict[str, str]:
        app = create_app(tenant.settings(tenant.catalog.resolve("beijing")))
        issuer = app.state.ctx.issuer
        with TestClient(app) as client:
            admin = {"Authorization": f"Bearer {issuer.mint('admin', ['provincial-admin'])}"}
            home_id = create_institution(client, admin)["id"]
            registrar = {"Authorization": "Bearer " + issuer.mint("registrar", ["registrar"],
                                                                  institution_id=uuid.UUID(home_id))}
            written = {}
            for _ in range(n):
                payload = case_payload(home_id)
                response = client.post("/api/v1/cases", json=payload, headers=registrar)
                assert response.status_code == 201, response.text
                written[response.json()["id"]] = payload["id_number"]
        app.state.ctx.engine.dispose()
        return written

    return write


@pytest.fixture
def backup_key(monkeypatch) -> str:
    """The backup key the operator keeps apart, given to `fsp` in FSP_BACKUP_KEY."""
    import secrets

    key = secrets.token_hex(16)
    monkeypatch.setenv("FSP_BACKUP_KEY", key)
    return key


def _libpq_admin(url: str) -> str:
    from sqlalchemy import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def broker(tmp_path: Path):
    """A running mosquitto on a free loopback port for the test (tests/mqtt_broker.py)."""
    from mqtt_broker import Mosquitto

    server = Mosquitto(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def province(tenant, home: Path):
    """beijing provisioned on this test's backend and served by `fsp serve`'s app on loopback (where `fsp` looks
    for it): tests/served_province.py's Province."""
    from served import serving_locally
    from served_province import Province

    with serving_locally(home) as url:
        yield Province.of(tenant, url)
