"""`fsp backup`: a private, complete, timestamped sealed backup that /metrics then reports."""
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest

from provisioning_cli.backup_archive import unseal
from provisioning_cli.backup_take import take_backup
from provisioning_cli.common import open_target
from registry.metrics import newest_backup_time


@pytest.fixture
def key(monkeypatch) -> bytes:
    key = secrets.token_bytes(16)
    monkeypatch.setenv("FSP_BACKUP_KEY", key.hex())
    return key


def test_sqlite_backup_is_private_complete_and_reported(fsp, home, key, tmp_path):
    fsp("up", "beijing")
    taken = json.loads(fsp("backup", "110000", "--json").stdout)

    backups = home / "tenants" / "beijing" / "backups"
    file = backups / taken["file"].rsplit("/", 1)[1]
    assert taken["tenant"] == "beijing" and taken["backend"] == "sqlite" and taken["outcome"] == "created"
    assert file.is_file() and file.stat().st_size == taken["bytes"] > 0
    assert file.stat().st_mode & 0o777 == 0o600 and backups.stat().st_mode & 0o777 == 0o700
    work = tmp_path / "work"
    work.mkdir()
    manifest = unseal(file, key=key, tenant="beijing", work=work)
    assert manifest["row_counts"]["alembic_version"] == 1 and (work / "database.sqlite3").is_file()
    assert newest_backup_time(backups) == datetime.fromisoformat(taken["taken_at"])
    assert list(backups.glob("*.partial")) == []
    table = fsp("backup", "beijing").stdout  # for people: a table naming the file
    assert "beijing" in table and "sqlite" in table and ("created" in table or "unchanged" in table)


def test_same_second_is_not_taken_twice(fsp, home, key):
    fsp("up", "beijing")
    local = open_target(home, None)
    settings = local.settings(local.catalog.resolve("beijing"))
    at = datetime(2026, 11, 29, 1, 2, 3, tzinfo=UTC)
    first = take_backup(settings, settings.backup_dir, key=key, at=at)
    again = take_backup(settings, settings.backup_dir, key=key, at=at)
    assert (first["outcome"], again["outcome"]) == ("created", "unchanged")
    assert first["file"].endswith("beijing-20261129T010203Z.fspbackup") and again["file"] == first["file"]


def test_refusals_leave_nothing(fsp, home, key):
    assert "unknown tenant" in fsp("backup", "atlantis", ok=False).stderr.lower()
    fsp("up", "beijing")
    assert "not provisioned" in fsp("backup", "tianjin", ok=False).stderr
    assert not (home / "tenants" / "tianjin").exists()
    (home / "tenants" / "beijing" / "registry.db").unlink()
    assert "missing" in fsp("backup", "beijing", ok=False).stderr
    assert list((home / "tenants" / "beijing" / "backups").iterdir()) == []


def test_postgresql_backup_holds_a_pg_dump(fsp, home, pg_admin_url, key, tmp_path):
    fsp("up", "beijing", "--postgres", pg_admin_url)
    try:
        taken = json.loads(fsp("backup", "beijing", "--json").stdout)
        work = tmp_path / "work"
        work.mkdir()
        unseal(Path(taken["file"]), key=key, tenant="beijing", work=work)
        assert (work / "database.dump").read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
        assert taken["backend"] == "postgresql"
    finally:
        fsp("down", "beijing", "--purge", "--yes")
        fsp("down", "ministry", "--purge", "--yes")
