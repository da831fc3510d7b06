"""Backups that restore: back up, write more, lose the database and keys, restore, and find everything back."""
import json
import shutil

import psycopg
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from infra.ensure.database import drop_database
from provisioning_cli.backup_archive import MAGIC, read_header
from registry.app import create_app
from registry.audit.models import AuditEntry
from registry.cases.fields import ID_CONTEXT
from registry.cases.models import Case
from registry.security.keys import FIELD_KEY
from tests.provisioning_cli.conftest import _libpq_admin


def _backup(fsp) -> dict:
    return json.loads(fsp("backup", "beijing", "--json").stdout)


def _state(tenant) -> dict:
    return json.loads(tenant.home.tenant("beijing").state.read_text())


def _destroy(tenant, db_backend, pg_url):
    """The tenant's database, keys and audit checkpoint are gone; its state and secrets remain."""
    paths = tenant.home.tenant("beijing")
    if db_backend == "sqlite":
        paths.sqlite.unlink()
    else:
        with psycopg.connect(_libpq_admin(pg_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{_state(tenant)["database"]["name"]}" WITH (FORCE)')
    shutil.rmtree(paths.keys)
    tenant.settings(tenant.catalog.resolve("beijing")).audit_checkpoint_path.unlink()


def _read_back(tenant) -> tuple[dict[str, str], dict]:
    """Every case's ID number as the registry decrypts it, and its audit-chain verdict."""
    app = create_app(tenant.settings(tenant.catalog.resolve("beijing")))
    ctx = app.state.ctx
    try:
        with Session(ctx.engine) as session:
            numbers = {str(case.id): ctx.decrypt(ID_CONTEXT, case.id_number_cipher) for case in session.exec(select(Case))}
        with TestClient(app) as client:
            admin = {"Authorization": f"Bearer {ctx.issuer.mint('admin', ['provincial-admin'])}"}
            auditor = {"Authorization": f"Bearer {ctx.issuer.mint('auditor', ['auditor'])}"}
            verdict = client.get("/api/v1/audit/verify", headers=auditor).json()  # before lookups add entries
            for case_id, number in numbers.items():  # found again by the blind index of the number
                found = client.post("/api/v1/cases/search", json={"id_number": number}, headers=admin).json()
                assert [c["id"] for c in found["data"]] == [case_id]
    finally:
        ctx.engine.dispose()
    return numbers, verdict


def test_back_up_write_more_destroy_restore_and_everything_backed_up_is_back(tenant, write_cases, fsp, backup_key,
                                                                            db_backend, request):
    backed_up = write_cases(3)
    taken = _backup(fsp)
    later = write_cases(2)
    _destroy(tenant, db_backend, request.getfixturevalue("pg_admin_url") if db_backend == "postgresql" else None)

    result = fsp("restore", "beijing", "--from", taken["file"], "--yes", "--json")
    restored = json.loads(result.stdout)

    assert restored["outcome"] == "restored" and restored["pre_restore_backup"] is None  # nothing left to back up
    assert {c["check"]: c["ok"] for c in restored["checks"]} == dict.fromkeys(
        ("checksums", "row_counts", "migration", "audit_chain", "personal_data", "keys"), True)
    assert "verifying" in result.stderr  # progress, on stderr
    numbers, verdict = _read_back(tenant)
    assert numbers == backed_up and not set(later) & set(numbers)
    # the chain is whole, and its one entry after the backed-up head says it was restored, from which backup
    assert verdict["ok"] and verdict["through_seq"] == taken["audit_head"]["seq"] + 1
    last = _audit_entry(tenant, verdict["through_seq"])
    assert (last.actor, last.action, json.loads(last.detail)["backup"]) == ("fsp restore", "restore",
                                                                           taken["file"].rsplit("/", 1)[1])
    assert fsp("status", "beijing", "--json") and json.loads(fsp("status", "beijing", "--json").stdout)[0]["keys"] == "ok"
    fsp("up", "beijing")


def test_backup_is_one_sealed_private_file_with_a_manifest(tenant, write_cases, fsp, backup_key, db_backend):
    write_cases(2)
    taken = _backup(fsp)

    file = tenant.home.tenant("beijing").root / "backups" / taken["file"].rsplit("/", 1)[1]
    data = file.read_bytes()
    assert data.startswith(MAGIC) and file.stat().st_mode & 0o777 == 0o600
    assert (tenant.home.tenant("beijing").keys / FIELD_KEY).read_bytes() not in data  # keys only sealed
    assert b"SQLite format" not in data and b"PGDMP" not in data
    header = read_header(file)
    assert (header["tenant"], header["format"]) == ("beijing", 1) and "backup_key_id" in header
    assert taken["row_counts"]["cases"] == 2 and taken["audit_head"]["seq"] > 0
    assert not list(file.parent.glob("*.partial")) and not list(file.parent.glob(".work-*"))


def test_no_backup_without_a_backup_key_kept_apart(tenant, fsp, home):
    backups = home / "tenants" / "beijing" / "backups"
    assert "no backup key" in fsp("backup", "beijing", ok=False).stderr
    backups.mkdir(exist_ok=True)
    (backups / "backup.key").write_text("00" * 16)
    assert "lies in the backup directory" in fsp("backup", "beijing", "--backup-key-file",
                                                 str(backups / "backup.key"), ok=False).stderr
    assert not list(backups.glob("*.fspbackup"))


def test_clear_refusals_leave_the_tenant_as_it_was(tenant, write_cases, fsp, backup_key, monkeypatch, home):
    written = write_cases(1)
    file = _backup(fsp)["file"]

    assert "--yes" in fsp("restore", "beijing", "--from", file, ok=False).stderr
    monkeypatch.setenv("FSP_BACKUP_KEY", "11" * 16)
    assert "wrong backup key" in fsp("restore", "beijing", "--from", file, "--yes", ok=False).stderr
    monkeypatch.setenv("FSP_BACKUP_KEY", backup_key)
    damaged = home / "damaged.fspbackup"
    data = bytearray(open(file, "rb").read())
    data[len(data) // 2] ^= 0x01
    damaged.write_bytes(bytes(data))
    assert "damaged or was altered" in fsp("restore", "beijing", "--from", str(damaged), "--yes", ok=False).stderr
    fsp("up", "tianjin")
    other = json.loads(fsp("backup", "tianjin", "--json").stdout)["file"]
    assert "a backup of tianjin, not of beijing" in fsp("restore", "beijing", "--from", other, "--yes", ok=False).stderr
    (home / "not.fspbackup").write_bytes(b"SQLite format 3\x00")
    assert "not an fsp backup" in fsp("restore", "beijing", "--from", str(home / "not.fspbackup"), "--yes",
                                      ok=False).stderr

    assert _read_back(tenant)[0] == written
    assert not list(tenant.home.tenant("beijing").root.glob("*.restoring*"))


def test_restore_over_a_live_tenant_backs_it_up_first(tenant, write_cases, fsp, backup_key, db_backend):
    backed_up = write_cases(1)
    file = _backup(fsp)["file"]
    later = write_cases(1)

    restored = json.loads(fsp("restore", "beijing", "--from", file, "--yes", "--json").stdout)

    assert restored["pre_restore_backup"] and restored["pre_restore_backup"] != file
    assert _read_back(tenant)[0] == backed_up
    again = json.loads(fsp("restore", "beijing", "--from", restored["pre_restore_backup"], "--yes", "--json").stdout)
    assert again["outcome"] == "restored" and _read_back(tenant)[0] == {**backed_up, **later}


def test_restore_into_a_new_database_leaves_the_tenant_alone(tenant, write_cases, fsp, backup_key, db_backend, home):
    write_cases(1)
    file = _backup(fsp)["file"]
    live = write_cases(1)
    into = str(home / "copy.db") if db_backend == "sqlite" else f"{_state(tenant)['database']['name']}_copy"

    restored = json.loads(fsp("restore", "beijing", "--from", file, "--into", into, "--json").stdout)

    assert restored["database"] == into and all(c["ok"] for c in restored["checks"])
    assert set(live) <= set(_read_back(tenant)[0])  # the tenant still has what it had
    assert "already exists" in fsp("restore", "beijing", "--from", file, "--into", into, ok=False).stderr
    if db_backend == "postgresql":
        with psycopg.connect(_libpq_admin(_state_admin(tenant)), autocommit=True) as admin:
            drop_database(admin, into)  # waits out an autovacuum worker the test's role may not end


def _audit_entry(tenant, seq: int) -> AuditEntry:
    with tenant.engine(tenant.catalog.resolve("beijing")) as engine, Session(engine) as session:
        return session.get(AuditEntry, seq)


def _state_admin(tenant) -> str:
    return (tenant.home.tenant("beijing").admin_url_secret).read_text().strip()


def test_a_fresh_backup_in_the_second_of_another_is_a_new_file_of_the_data_as_it_is_now(tenant, write_cases, home,
                                                                                      backup_key, db_backend):
    # restore backs the tenant up first: a backup of the same second must not stand in for the data written since
    from datetime import UTC, datetime

    from provisioning_cli.backup_take import take_backup

    settings = tenant.settings(tenant.catalog.resolve("beijing"))
    key = bytes.fromhex(backup_key)
    now = datetime.now(UTC)
    first = take_backup(settings, home / "same-second", key=key, at=now)
    write_cases(1)
    assert take_backup(settings, home / "same-second", key=key, at=now)["outcome"] == "unchanged"
    fresh = take_backup(settings, home / "same-second", key=key, at=now, fresh=True)
    assert fresh["outcome"] == "created" and fresh["file"] != first["file"]
    assert sum(fresh["row_counts"].values()) > sum(first["row_counts"].values())
