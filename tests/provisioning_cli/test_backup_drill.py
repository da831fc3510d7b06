"""`fsp backup drill`: the newest backup restored into a scratch database, verified, dropped; the result recorded."""
import json

import psycopg

from registry.metrics import last_drill
from tests.provisioning_cli.conftest import _libpq_admin


def _drill_record(tenant) -> dict:
    return json.loads((tenant.home.tenant("beijing").root / "backups" / "drill.json").read_text())


def _databases(tenant) -> set[str]:
    admin_url = tenant.home.tenant("beijing").admin_url_secret.read_text().strip()
    with psycopg.connect(_libpq_admin(admin_url)) as admin:
        # only scratch databases: other test workers create and drop their own databases on the same server meanwhile
        return {row[0] for row in admin.execute("SELECT datname FROM pg_database WHERE datname LIKE '%\\_drill'")}


def test_drill_restores_the_newest_backup_verifies_it_drops_it_and_records_it(tenant, write_cases, fsp, backup_key,
                                                                             db_backend):
    write_cases(2)
    fsp("backup", "beijing")
    before = _databases(tenant) if db_backend == "postgresql" else None

    result = json.loads(fsp("backup", "drill", "beijing", "--json").stdout)

    assert result["outcome"] == "ok" and result["file"].endswith(".fspbackup")
    assert {c["check"] for c in result["checks"] if c["ok"]} >= {"row_counts", "audit_chain", "personal_data"}
    record = _drill_record(tenant)
    assert record["outcome"] == "ok" and last_drill(tenant.home.tenant("beijing").root / "backups")["outcome"] == "ok"
    root = tenant.home.tenant("beijing").root
    assert not list(root.glob(".work-*")) and not list(root.rglob("drill.sqlite3"))  # the scratch copy is gone
    if db_backend == "postgresql":
        assert _databases(tenant) == before


def test_a_failed_drill_is_recorded_and_exits_non_zero(tenant, fsp, backup_key, db_backend):
    missing = fsp("backup", "drill", "beijing", "--json", ok=False)
    assert json.loads(missing.stdout)["outcome"] == "failed"
    assert "no backup of beijing" in _drill_record(tenant)["problem"]

    file = json.loads(fsp("backup", "beijing", "--json").stdout)["file"]
    data = bytearray(open(file, "rb").read())
    data[-40] ^= 0x01  # the newest backup was damaged on its disk
    open(file, "wb").write(bytes(data))
    fsp("backup", "drill", "beijing", ok=False)
    record = _drill_record(tenant)
    assert record["outcome"] == "failed" and "damaged" in record["problem"]
