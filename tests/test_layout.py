"""The layout the tooling relies on: platform/ is a plain folder (a package named `platform` would shadow the
standard library), the registry is imported from it, and Alembic's configuration sits at the repository root."""
import platform
import subprocess
import sys
from pathlib import Path

from alembic.config import Config

REPO = Path(__file__).resolve().parents[1]


def _python(code: str, cwd: Path) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_platform_folder_does_not_shadow_the_standard_library():
    assert not (REPO / "platform" / "__init__.py").exists()

    # from the repo root, where a `platform` package would be found first
    imported = _python("import platform; platform.system(); print(platform.__file__)", cwd=REPO)

    assert imported == platform.__file__


def test_registry_is_imported_from_the_platform_folder(tmp_path):
    # from elsewhere, so only the installed distribution can find it
    imported = _python("import registry; print(registry.__file__)", cwd=tmp_path)

    assert Path(imported).resolve().parent == REPO / "platform" / "registry"


def test_alembic_ini_at_the_root_points_at_the_migrations():
    from registry.db import MIGRATIONS_DIR

    assert (REPO / "alembic.ini").is_file()
    assert Path(Config(REPO / "alembic.ini").get_main_option("script_location")) == REPO / "migrations"
    assert MIGRATIONS_DIR == REPO / "migrations"
