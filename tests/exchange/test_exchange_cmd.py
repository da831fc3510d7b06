"""`fsp exchange ship` and `fsp exchange status` on the local target, against `fsp serve`'s app over loopback."""
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from factories import create_institution, declare_case
from provisioning_cli.main import app as fsp_app
from provisioning_cli.targets.local import LocalTarget
from registry.app import create_app
from served import serving_locally
from tenants import load_catalog

runner = CliRunner()


@pytest.fixture(autouse=True)
def _no_ambient_settings(monkeypatch):
    for name in ("FSP_CATALOG", "FSP_HOME", "FSP_POSTGRES_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """One provisioned $FSP_HOME for the module: the ministry and beijing on SQLite (provisioning is the slow part)."""
    home = tmp_path_factory.mktemp("exchange-cmd") / "fsp-home"
    result = runner.invoke(fsp_app, ["up", "beijing", "--home", str(home)])
    assert result.exit_code == 0, result.output
    return home


@pytest.fixture
def fsp(home: Path) -> Callable[..., Result]:
    def run(*args: str, ok: bool = True) -> Result:
        result = runner.invoke(fsp_app, [*args, "--home", str(home)])
        assert result.exit_code == (0 if ok else 1), f"{result.stdout}\n{result.stderr}\n{result.exception!r}"
        assert "Traceback" not in result.stdout + result.stderr
        return result

    return run


@pytest.fixture
def served(home: Path) -> Iterator[str]:
    """`fsp serve`'s combined app on a loopback port, recorded as the address `fsp serve` uses."""
    with serving_locally(home) as url:
        yield url


@pytest.fixture
def declare(home: Path) -> Callable[[int], None]:
    """`declare(n)`: n cases declared in beijing (plus one institution the first time), in beijing's database."""
    target = LocalTarget(home, load_catalog())
    app = create_app(target.settings(target.catalog.resolve("beijing")))
    issuer = app.state.ctx.issuer

    def _declare(n: int) -> None:
        with TestClient(app) as client:
            admin = {"Authorization": f"Bearer {issuer.mint('admin', ['provincial-admin'])}"}
            home_ = create_institution(client, admin, type="funeral_home")
            token = issuer.mint("registrar", ["registrar"], institution_id=uuid.UUID(home_["id"]))
            for _ in range(n):
                declare_case(client, {"Authorization": f"Bearer {token}"}, home_["id"])

    yield _declare
    app.state.ctx.engine.dispose()


def _beijing(rows: list[dict]) -> dict:
    return next(row for row in rows if row["tenant"] == "beijing")


def test_ship_sends_the_pending_outbox_and_status_shows_both_sides(fsp, served, declare):
    before = _beijing(json.loads(fsp("exchange", "status", "--json").stdout))
    declare(2)  # an institution and two cases: three events

    pending = _beijing(json.loads(fsp("exchange", "status", "--json").stdout))
    shipped = json.loads(fsp("exchange", "ship", "beijing", "--json").stdout)
    after = _beijing(json.loads(fsp("exchange", "status", "--json").stdout))
    again = json.loads(fsp("exchange", "ship", "--all", "--json").stdout)
    table = fsp("exchange", "status").stdout

    head = before["outbox_head"] + 3
    assert pending["outbox_head"] == head and pending["pending"] == before["pending"] + 3
    assert shipped == [{"tenant": "beijing", "shipped": before["pending"] + 3, "acknowledged_through": head,
                        "pending": 0, "matches_received": 0, "matches_problem": None, "problem": None, "paused": False}]
    assert after == {"tenant": "beijing", "code": "110000", "exchange": True, "outbox_head": head,
                     "shipped": head, "pending": 0, "acknowledged_at_ministry": head, "behind": 0}
    assert again == [{"tenant": "beijing", "shipped": 0, "acknowledged_through": head, "pending": 0,
                      "matches_received": 0, "matches_problem": None, "problem": None, "paused": False}]
    line = next(line for line in table.splitlines() if "beijing" in line)
    assert "110000" in line and line.count(str(head)) >= 3


def test_ship_prints_a_table_for_people(fsp, served, declare):
    declare(1)

    result = fsp("exchange", "ship", "beijing")

    assert f"shipped to {served}/ministry" in result.stdout
    line = next(line for line in result.stdout.splitlines() if "beijing" in line)
    assert line.split("│")[2].strip() == "2"  # shipped: the institution and the case


def test_a_province_whose_key_the_ministry_does_not_trust_is_an_error(fsp, served, declare, home):
    declare(1)
    peer = home / "tenants" / "ministry" / "exchange-peers" / "beijing.pem"
    registered = peer.read_bytes()
    peer.unlink()
    try:
        result = fsp("exchange", "ship", "beijing", "--json", ok=False)
    finally:
        peer.write_bytes(registered)

    row = json.loads(result.stdout)[0]
    assert row["shipped"] == 0 and row["pending"] >= 2
    assert "401" in row["problem"] and "error: beijing:" in result.stderr and "registered" in result.stderr
    assert json.loads(fsp("exchange", "ship", "beijing", "--json").stdout)[0]["pending"] == 0  # trusted again


def test_an_unreachable_ministry_is_an_error_and_nothing_is_marked(fsp, declare):
    declare(1)

    result = fsp("exchange", "ship", "beijing", "--ministry-url", "http://127.0.0.1:9/ministry", ok=False)

    assert "unreachable" in result.stderr
    assert _beijing(json.loads(fsp("exchange", "status", "--json").stdout))["pending"] >= 2


@pytest.mark.parametrize(("args", "message"), [
    ((), "name the provinces to ship, or pass --all"),
    (("beijing", "--all"), "not both"),
    (("ministry",), "is the ministry"),
    (("tianjin",), "not provisioned"),
    (("atlantis",), "atlantis"),
])
def test_ship_refuses_what_it_cannot_do(fsp, args, message):
    result = fsp("exchange", "ship", *args, ok=False)

    assert message in result.stderr
