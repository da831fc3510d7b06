"""Monitoring tests: the registry app's settings carry a backup directory, as the local target writes them."""
from pathlib import Path

import pytest


@pytest.fixture
def settings(database_url: str, tmp_path: Path):
    from registry.config import Settings

    return Settings(tenant_code="110000", tenant_slug="beijing", database_url=database_url,
                    keys_dir=tmp_path / "keys", environment="development", backup_dir=tmp_path / "backups")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "fsp-home"


@pytest.fixture
def fsp(home: Path, monkeypatch):
    """`fsp("backup", "beijing", ok=True)` in-process with --home set; asserts exit 0 (ok) or 1, never a traceback."""
    from typer.testing import CliRunner

    from provisioning_cli.main import app

    for name in ("FSP_CATALOG", "FSP_HOME", "FSP_POSTGRES_URL", "FSP_PROMETHEUS_URL", "FSP_BACKUP_KEY", "FSP_BACKUP_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()

    def run(*args: str, ok: bool = True):
        result = runner.invoke(app, [*args, "--home", str(home)])
        assert result.exit_code == (0 if ok else 1), \
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\n{result.exception!r}"
        assert "Traceback" not in result.stdout + result.stderr
        return result

    return run
