"""`fsp status`: every tenant listed, the migration read from its database."""
import sqlite3

KEYS = {"tenant", "code", "provisioned", "served", "migration", "head", "version", "database", "endpoint"}


def test_status_lists_every_tenant_provisioned_or_not(fsp, fsp_json):
    fsp("up", "beijing")

    rows = fsp_json("status")

    assert len(rows) == 33
    by_slug = {row["tenant"]: row for row in rows}
    assert all(KEYS <= row.keys() for row in rows)
    beijing, hebei = by_slug["beijing"], by_slug["hebei"]
    assert beijing["provisioned"] is True and beijing["served"] is True
    assert beijing["migration"] == beijing["head"] is not None
    assert beijing["endpoint"] == "http://127.0.0.1:8000/beijing/api/v1"
    assert beijing["database"].startswith("sqlite:///") and beijing["version"]
    assert by_slug["ministry"]["provisioned"] is True
    assert hebei["provisioned"] is False and hebei["served"] is False and hebei["migration"] is None


def test_status_reads_the_revision_from_the_database(fsp, fsp_json, home):
    fsp("up", "beijing")
    with sqlite3.connect(home / "tenants" / "beijing" / "registry.db") as conn:
        conn.execute("DELETE FROM alembic_version")

    row, = fsp_json("status", "beijing")

    assert row["migration"] is None
    assert row["head"]


def test_status_of_one_tenant_and_a_table(fsp, fsp_json):
    assert [r["tenant"] for r in fsp_json("status", "370000")] == ["shandong"]
    assert "shandong" in fsp("status").stdout
    assert "did you mean: shandong" in fsp("status", "shandong2", ok=False).stderr
