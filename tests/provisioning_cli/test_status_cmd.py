"""`fsp status`: every tenant listed, the migration read from its database."""
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from kc_double.runner import BackgroundServer
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_serve import build_gateway
from provisioning_cli.targets.local_state import Home
from served import serving_locally
from tenants import load_catalog

KEYS = {"tenant", "code", "provisioned", "served", "migration", "head", "version", "database", "endpoint"}


@pytest.fixture
def nothing_listening(home: Path) -> Iterator[None]:
    """The recorded serve address is a loopback port bound but not listening: connections there are refused."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        Home(home).record_serve_address("127.0.0.1", closed.getsockname()[1])
        yield


def test_status_lists_every_tenant_provisioned_or_not(fsp, fsp_json, nothing_listening):
    fsp("up", "beijing")

    rows = fsp_json("status")

    assert len(rows) == 33
    by_slug = {row["tenant"]: row for row in rows}
    assert all(KEYS <= row.keys() for row in rows)
    beijing, hebei = by_slug["beijing"], by_slug["hebei"]
    # provisioned and not taken down, but no `fsp serve` runs: not served, and why
    assert beijing["provisioned"] is True and beijing["served"] is False and beijing["serve"] == "not running"
    assert beijing["lifecycle"]["state"] == "active"
    assert beijing["migration"] == beijing["head"] is not None
    assert beijing["endpoint"].endswith("/beijing/api/v1")
    assert beijing["database"].startswith("sqlite:///") and beijing["version"]
    assert by_slug["ministry"]["provisioned"] is True
    assert hebei["provisioned"] is False and hebei["served"] is False and hebei["migration"] is None
    assert hebei["serve"] is None


def test_status_reads_the_revision_from_the_database(fsp, fsp_json, home, nothing_listening):
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


def test_a_tenant_is_served_when_it_answers_and_not_mounted_when_the_server_does_not_serve_it(fsp, fsp_json, home):
    fsp("up", "beijing", "tianjin")
    fsp("down", "tianjin")
    target = LocalTarget(home, load_catalog())
    only_ministry, _ = build_gateway(target, [target.catalog.ministry])

    with serving_locally(home):
        served = {row["tenant"]: row for row in fsp_json("status")}
        table = fsp("status").stdout
    with BackgroundServer(only_ministry) as url:
        host, port = url.removeprefix("http://").split(":")
        target.home.record_serve_address(host, int(port))
        elsewhere = {row["tenant"]: row for row in fsp_json("status")}

    assert (served["beijing"]["served"], served["beijing"]["serve"]) == (True, "ready")
    assert (served["tianjin"]["served"], served["tianjin"]["serve"]) == (False, "taken down")
    assert (elsewhere["beijing"]["served"], elsewhere["beijing"]["serve"]) == (False, "not mounted")
    assert "tenant_not_served" in elsewhere["beijing"]["serve_reason"]
    assert elsewhere["ministry"]["served"] is True
    line = next(line for line in table.splitlines() if "beijing" in line)
    assert "active" in line and "ready" in line
