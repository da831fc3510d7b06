"""Monitoring tests: the registry app's settings carry a backup directory, as the local target writes them."""
from pathlib import Path

import pytest


@pytest.fixture
def settings(database_url: str, tmp_path: Path):
    from registry.config import Settings

    return Settings(tenant_code="110000", tenant_slug="beijing", database_url=database_url,
                    keys_dir=tmp_path / "keys", environment="development", backup_dir=tmp_path / "backups")
