"""`fsp drift` on real tenants (SQLite and PostgreSQL): each kind of drift is named, `fsp up` repairs what it owns
and drift is then clean; what it must not repair (a replaced key, a lost database) is left to an operator."""
import json
import os
import shutil
import subprocess
import sys
import threading
import time

import httpx
import psycopg
import pytest
import uvicorn
import yaml
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import make_url
from typer.testing import CliRunner

import provisioning_cli.drift.schedule as schedule_module
from infra.ensure.realm import connect
from kc_double.runner import BackgroundServer
from kc_double.server import KeycloakDouble
from loopback import free_port
from provisioning_cli.drift.schedule import DriftSchedule, fleet_drift_round
from provisioning_cli.lifecycle import Lifecycle, set_lifecycle
from provisioning_cli.main import app
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_state import read_json, read_secret, write_state
from registry.app import create_app
from tenants import DEFAULT_CATALOG_DIR, load_catalog

runner = CliRunner()


@pytest.fixture
def drift(home):
    """`drift("beijing", code=1)`: `fsp drift ... --json` with its exit code checked; the parsed report."""
    def run(*args: str, code: int = 0) -> dict:
        result = runner.invoke(app, ["drift", *args, "--json", "--home", str(home)])
        assert result.exit_code == code, f"{result.stdout}\n{result.stderr}\n{result.exception!r}"
        return json.loads(result.stdout)

    return run


def found(report: dict, tenant: str = "beijing") -> dict[tuple[str, str], dict]:
    """The differences of one tenant by (resource, field)."""
    rows = next(t for t in report["tenants"] if t["tenant"] == tenant)["drift"]
    return {(row["resource"], row["field"]): row for row in rows}


def test_a_fresh_tenant_has_no_drift_and_says_what_it_could_not_check(tenant, drift, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi on the path, whatever this machine has
    report = drift("beijing")
    assert report["drift_items"] == 0 and found(report) == {}
    (beijing,) = report["tenants"]
    assert beijing["lifecycle"] == "active" and beijing["errors"] == []
    assert {"resource": "kubernetes", "reason": "not checked: pulumi engine absent"} in beijing["unchecked"]
    assert "realm" in beijing["not_applicable"]  # a development tenant has no realm
    assert set(report) == {"checked_at", "drift_items", "tenants", "skipped"}


def test_each_drift_fsp_up_owns_is_named_and_repaired(tenant, drift, fsp, home, run_alembic):
    beijing = tenant.home.tenant("beijing")
    settings = json.loads(beijing.settings.read_text())
    beijing.settings.write_text(json.dumps({**settings, "db_pool_size": 50, "stray": True}))
    (beijing.keys / "field-sm4.key").chmod(0o644)
    beijing.root.chmod(0o755)
    (tenant.home.scrape_targets / "beijing.json").unlink()
    (tenant.home.tenant("ministry").peers / "beijing.pem").write_text("-----BEGIN PUBLIC KEY-----\nother\n")
    run_alembic(tenant.settings(tenant.catalog.resolve("beijing")).database_url, command.downgrade, "-1")

    report = drift("beijing", code=1)

    differences = found(report)
    assert differences[("settings", "db_pool_size")] | {"declared": 5, "live": 50} == differences[("settings", "db_pool_size")]
    assert differences[("settings", "stray")]["declared"] == "absent"
    assert differences[("files", "keys/field-sm4.key mode")]["live"] == "0644"
    assert differences[("files", ". mode")]["declared"] == "0700"
    assert differences[("monitoring", "scrape target beijing.json")]["live"] == "absent"
    assert differences[("registration", "ministry's exchange-peers/beijing.pem")]["live"] == "another key"
    assert differences[("migrations", "revision")]["live"] != differences[("migrations", "revision")]["declared"]
    assert len(differences) == 7 and all(row["repaired_by_up"] for row in differences.values())

    fsp("up", "beijing")
    assert drift("beijing")["drift_items"] == 0


def test_a_replaced_key_the_data_depends_on_needs_an_operator(tenant, write_cases, drift, fsp):
    write_cases(1)  # the field key now encrypts an ID number
    key = tenant.home.tenant("beijing").keys / "field-sm4.key"
    original = key.read_bytes()
    key.write_bytes(os.urandom(len(original)))

    (difference,) = found(drift("beijing", code=1)).values()
    assert difference["resource"] == "keys" and difference["repaired_by_up"] is False
    assert "replaced" in difference["live"] and "restore" in difference["action"]
    assert "field key" in fsp("up", "beijing", ok=False).stderr  # never silently replaced
    assert found(drift("beijing", code=1))  # still there after the refused run

    key.write_bytes(original)
    assert drift("beijing")["drift_items"] == 0


def test_a_replaced_key_nothing_depends_on_yet_is_still_an_operators_call(tenant, drift):
    key = tenant.home.tenant("beijing").keys / "certificate-sm2.key"
    key.write_bytes(key.read_bytes()[::-1])
    differences = found(drift("beijing", code=1))
    assert differences[("keys", "certificate-sm2.key")]["repaired_by_up"] is False
    assert "restore the original" in differences[("keys", "certificate-sm2.key")]["action"]


@pytest.mark.postgresql_only
def test_database_roles_and_grants_drift_is_named_and_repaired(tenant, drift, fsp, pg_admin_url):
    database = read_json(tenant.home.tenant("beijing").state)["database"]
    admin_url = make_url(pg_admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'GRANT CONNECT, TEMPORARY ON DATABASE "{database["name"]}" TO PUBLIC')
        admin.execute(f'ALTER ROLE "{database["role"]}" CREATEDB')

    differences = found(drift("beijing", code=1))
    assert differences[("database", "database.grants")]["live"] == "PUBLIC: CONNECT, TEMPORARY"
    assert differences[("database", "role.createdb")] | {"declared": False, "live": True} == \
        differences[("database", "role.createdb")]
    assert len(differences) == 2 and all(row["repaired_by_up"] for row in differences.values())

    fsp("up", "beijing")
    assert drift("beijing")["drift_items"] == 0


@pytest.mark.postgresql_only
def test_a_role_password_changed_behind_fsp_is_refused_then_set_again_by_up(tenant, drift, fsp, pg_admin_url):
    database = read_json(tenant.home.tenant("beijing").state)["database"]
    admin_url = make_url(pg_admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"""ALTER ROLE "{database['role']}" PASSWORD 'changed-by-hand'""")

    report = drift("beijing", code=2)  # the schema and keys cannot be read with the refused password
    assert found(report)[("database", "role.password")]["live"] == "refused"
    (beijing,) = report["tenants"]
    assert {error["resource"] for error in beijing["errors"]} == {"migrations", "keys"}
    password = make_url(read_secret(tenant.home.tenant("beijing").database_url_secret)).password
    assert password not in json.dumps(report)  # errors name the role and server, never the password

    fsp("up", "beijing")
    assert drift("beijing")["drift_items"] == 0


def test_a_lost_database_needs_a_restore_not_an_empty_one(fsp, home, drift):
    fsp("up", "beijing")
    (home / "tenants" / "beijing" / "registry.db").unlink()
    report = drift("beijing", code=1)
    difference = found(report)[("database", "registry.db")]
    assert difference["repaired_by_up"] is False and "fsp restore beijing" in difference["action"]
    assert {u["resource"] for u in report["tenants"][0]["unchecked"]} >= {"migrations"}


def test_a_tenant_taken_down_keeps_no_scrape_target(fsp, home, drift):
    fsp("up", "beijing")
    fsp("down", "beijing")
    assert drift("beijing")["drift_items"] == 0
    target = home / "monitoring" / "targets" / "beijing.json"
    target.write_text("[]")
    difference = found(drift("beijing", code=1))[("monitoring", "scrape target beijing.json")]
    assert difference["repaired_by_up"] is False and "fsp down beijing" in difference["action"]


def test_the_fleet_run_skips_suspended_tenants_and_the_ministrys_metrics_count_drift(fsp, home, drift):
    fsp("up", "beijing", "tianjin")
    local = LocalTarget(home, load_catalog())
    tianjin = local.home.tenant("tianjin")
    state = read_json(tianjin.state)
    set_lifecycle(state, Lifecycle.suspended, reason="contract review")
    write_state(tianjin.state, state)
    settings = json.loads(local.home.tenant("beijing").settings.read_text())
    local.home.tenant("beijing").settings.write_text(json.dumps({**settings, "db_pool_size": 9}))

    report = drift("--all", code=1)

    assert [t["tenant"] for t in report["tenants"]] == ["ministry", "beijing"]
    assert {"tenant": "tianjin", "reason": "suspended"} in report["skipped"]
    assert [t["tenant"] for t in drift("tianjin")["tenants"]] == ["tianjin"]  # named: checked all the same
    metrics = _ministry_metrics(local)
    assert 'fsp_drift_items{province="beijing",resource="settings"} 1.0' in metrics
    assert 'fsp_drift_items{province="ministry",resource="settings"} 0.0' in metrics
    assert 'province="tianjin"' not in metrics
    stamp = next(line for line in metrics.splitlines() if line.startswith("fsp_drift_last_run_timestamp_seconds"))
    assert float(stamp.split()[-1]) > 0


def _ministry_metrics(local: LocalTarget) -> str:
    ministry = create_app(local.settings(local.catalog.ministry))
    try:
        with TestClient(ministry) as client:
            return client.get("/metrics").text
    finally:
        ministry.state.ctx.engine.dispose()


def test_errors_exit_2_and_a_fleet_without_drift_exits_0(fsp, home, drift):
    refused = runner.invoke(app, ["drift", "beijing", "--home", str(home)])
    assert refused.exit_code == 2 and "not provisioned" in refused.stderr
    assert runner.invoke(app, ["drift", "--home", str(home)]).exit_code == 2
    assert runner.invoke(app, ["drift", "nowhere", "--home", str(home)]).exit_code == 2
    fsp("up", "beijing")
    people = runner.invoke(app, ["drift", "--all", "--home", str(home)])
    assert people.exit_code == 0 and "no drift in 2 tenant(s)" in people.stdout


def test_people_see_a_table_and_what_an_operator_must_do(fsp, home):
    fsp("up", "beijing")
    (home / "tenants" / "beijing" / "registry.db").unlink()
    (home / "tenants" / "beijing" / "tenant.json").chmod(0o644)
    result = runner.invoke(app, ["drift", "beijing", "--home", str(home)])
    assert result.exit_code == 1
    assert "registry.db" in result.stdout and "to do: restore it from a backup" in result.stdout
    assert "2 difference(s) in 1 of 1 tenant(s): 1 repaired by `fsp up`, 1 need an operator" in result.stdout


# --- the realm, through Keycloak's admin API (the schema-checked double) ---------------------------------------------

@pytest.fixture
def keycloak_catalog(tmp_path, monkeypatch):
    """The packaged catalog with beijing on the Keycloak double, its administrator in the environment."""
    double = KeycloakDouble()
    with BackgroundServer(double.app) as url:
        catalog = tmp_path / "catalog"
        shutil.copytree(DEFAULT_CATALOG_DIR, catalog)
        entry = yaml.safe_load((catalog / "beijing.yaml").read_text(encoding="utf-8"))
        entry["sso"] = {"provider": "keycloak", "keycloak_url": url, "realm": "fsp-drift"}
        (catalog / "beijing.yaml").write_text(yaml.safe_dump(entry, allow_unicode=True), encoding="utf-8")
        monkeypatch.setenv("FSP_KEYCLOAK_ADMIN_USER", double.admin_username)
        monkeypatch.setenv("FSP_KEYCLOAK_ADMIN_PASSWORD", double.admin_password)
        yield catalog, url, double


def test_realm_drift_is_read_through_the_admin_api_and_repaired_by_up(fsp, home, keycloak_catalog, monkeypatch):
    catalog, url, double = keycloak_catalog
    fsp("up", "beijing", "--catalog", str(catalog))

    def drift(code: int) -> dict:
        result = runner.invoke(app, ["drift", "beijing", "--json", "--catalog", str(catalog), "--home", str(home)])
        assert result.exit_code == code, f"{result.stdout}\n{result.stderr}"
        return json.loads(result.stdout)

    assert drift(0)["drift_items"] == 0
    admin = connect(url, double.admin_username, double.admin_password, "fsp-drift")
    admin.update_realm("fsp-drift", {"realm": "fsp-drift", "bruteForceProtected": False,
                                     "ssoSessionIdleTimeout": 7200})
    differences = found(drift(1))
    assert differences[("realm", "realm.bruteForceProtected")] | {"declared": True, "live": False} == \
        differences[("realm", "realm.bruteForceProtected")]
    assert differences[("realm", "realm.ssoSessionIdleTimeout")]["live"] == 7200
    assert all(row["repaired_by_up"] for row in differences.values()) and len(differences) == 2

    fsp("up", "beijing", "--catalog", str(catalog))
    assert drift(0)["drift_items"] == 0
    monkeypatch.delenv("FSP_KEYCLOAK_ADMIN_PASSWORD")
    (beijing,) = drift(0)["tenants"]
    assert any(u["resource"] == "realm" and "FSP_KEYCLOAK_ADMIN_PASSWORD" in u["reason"] for u in beijing["unchecked"])


# --- the schedule ----------------------------------------------------------------------------------------------------

def test_the_schedule_runs_with_jitter_survives_a_failing_run_and_stops():
    calls, ran = [], threading.Event()

    def run():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the first round fails")
        if len(calls) >= 3:
            ran.set()

    schedule = DriftSchedule(run, interval=0.02, jitter=0.5)
    assert DriftSchedule(run, interval=100, jitter=0.1, rng=lambda: 0.0).next_delay() == pytest.approx(90)
    assert DriftSchedule(run, interval=100, jitter=0.1, rng=lambda: 1.0).next_delay() == pytest.approx(110)
    schedule.start()
    assert ran.wait(5)
    schedule.stop()
    assert not schedule.running and schedule.failures == 1 and schedule.runs >= 2
    stopped_at = len(calls)
    threading.Event().wait(0.1)
    assert len(calls) == stopped_at
    with pytest.raises(ValueError):
        DriftSchedule(run, interval=0)


def test_a_scheduled_round_records_the_fleet_unless_a_command_is_changing_it(fsp, home):
    fsp("up", "beijing")
    local = LocalTarget(home, load_catalog())
    record = home / "tenants" / "ministry" / "drift.json"
    with local.home.lock():  # an `fsp up` in progress
        assert fleet_drift_round(local)() is None
    assert not record.exists()
    report = fleet_drift_round(local)()
    assert report.drift_items == 0
    assert set(json.loads(record.read_text())["tenants"]) == {"ministry", "beijing"}
    assert record.stat().st_mode & 0o777 == 0o600


def test_a_round_during_which_a_tenant_changed_is_left_out(fsp, home, monkeypatch):
    fsp("up", "beijing")
    local = LocalTarget(home, load_catalog())
    real = schedule_module.check_fleet

    def check_while_beijing_is_taken_down(*args, **kwargs):
        report = real(*args, **kwargs)
        fsp("down", "beijing")  # what drift read of beijing is stale now
        return report

    monkeypatch.setattr(schedule_module, "check_fleet", check_while_beijing_is_taken_down)
    assert fleet_drift_round(local)() is None
    assert not (home / "tenants" / "ministry" / "drift.json").exists()


def test_serve_starts_the_drift_schedule_only_where_the_ministry_is_served(fsp, home, monkeypatch):

    started: list[float] = []

    class Recorded:
        def stop(self):
            started.append(-1)

    monkeypatch.setattr(schedule_module, "start_drift_schedule",
                        lambda local, interval: started.append(interval) or Recorded())
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: None)
    fsp("up", "beijing")
    fsp("serve", "--drift-interval", "600", "--port", "8765")
    assert started == [600.0, -1]
    started.clear()
    fsp("serve", "--tenant", "beijing", "--port", "8765")
    fsp("serve", "--drift-interval", "0", "--port", "8765")
    assert started == []


def test_a_running_fsp_serve_checks_the_fleet_and_its_ministry_counts_drift_until_up_repairs_it(fsp, home, tmp_path):
    fsp("up", "beijing")
    settings = home / "tenants" / "beijing" / "tenant.json"
    settings.write_text(json.dumps({**json.loads(settings.read_text()), "db_pool_size": 7}))
    port = free_port()
    with (tmp_path / "serve.log").open("w") as log:
        server = subprocess.Popen([sys.executable, "-m", "provisioning_cli.main", "serve", "--port", str(port),
                                   "--drift-interval", "0.5", "--home", str(home)], stdout=log, stderr=log)
    drifted = 'fsp_drift_items{province="beijing",resource="settings"}'

    def metric_becomes(value: str) -> bool:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/ministry/metrics", timeout=5).text
                if f"{drifted} {value}" in text:
                    return True
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.2)
        return False

    try:
        assert metric_becomes("1.0"), (tmp_path / "serve.log").read_text()[-2000:]
        fsp("up", "beijing")
        assert metric_becomes("0.0"), (tmp_path / "serve.log").read_text()[-2000:]
    finally:
        server.terminate()
        server.wait(timeout=30)
