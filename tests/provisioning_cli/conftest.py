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
    for name in ("FSP_CATALOG", "FSP_HOME", "FSP_POSTGRES_URL"):
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
