"""`fsp upgrade` against a real `fsp serve`: tenants one release behind are migrated wave by wave and found ready
through the server; an injected failure halts the rollout and `--rollback` takes the wave back with its data."""
import json
import socket

import httpx
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from provisioning_cli.targets.local_state import Home
from registry import db

HEAD = ",".join(sorted(ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_heads()))
BEFORE = ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_revision(HEAD).down_revision


@pytest.fixture
def fleet(tenant, fsp, db_backend, request):
    """`fleet(*slugs)`: beijing (from `tenant`) and these tenants provisioned on the test's backend, then taken one
    migration back, as after installing a kit whose head is one migration newer; yields the LocalTarget."""
    def provision(*slugs: str):
        postgres = request.getfixturevalue("pg_admin_url") if db_backend == "postgresql" else None
        fsp("up", *slugs, *(("--postgres", postgres) if postgres else ()))
        for spec in tenant.catalog.tenants:
            if tenant.is_provisioned(spec):
                command.downgrade(db.alembic_config(tenant.settings(spec).database_url), BEFORE)
        return tenant

    return provision


def _revision(local, slug: str) -> str:
    engine = create_engine(local.settings(local.catalog.resolve(slug)).database_url)
    try:
        return ",".join(sorted(db.current_revisions(engine)))
    finally:
        engine.dispose()


def _count(local, slug: str, table: str) -> int:
    engine = create_engine(local.settings(local.catalog.resolve(slug)).database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    finally:
        engine.dispose()


def _refuse_revision_changes(local, slug: str, backend: str, *, to: str | None = None,
                             message: str = "injected failure") -> None:
    """The injected failure: the tenant's database refuses to move its recorded revision (to `to` only, when
    given: a migration without a way back), so such a migration fails."""
    engine = create_engine(local.settings(local.catalog.resolve(slug)).database_url)
    with engine.begin() as connection:
        if backend == "sqlite":
            when = f"WHEN NEW.version_num = '{to}' " if to else ""
            connection.execute(text(f"CREATE TRIGGER refuse_upgrade BEFORE UPDATE ON alembic_version {when}"
                                    f"BEGIN SELECT RAISE(ABORT, '{message}'); END"))
        else:
            when = f"WHEN (NEW.version_num = '{to}') " if to else ""
            connection.execute(text("CREATE FUNCTION refuse_upgrade() RETURNS trigger LANGUAGE plpgsql AS "
                                    f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"))
            connection.execute(text(f"CREATE TRIGGER refuse_upgrade BEFORE UPDATE ON alembic_version FOR EACH ROW "
                                    f"{when}EXECUTE FUNCTION refuse_upgrade()"))
    engine.dispose()


def test_an_upgrade_of_healthy_tenants_passes_wave_by_wave(fleet, fsp, home, backup_key):
    from served import serving_locally

    fleet("hebei")
    with serving_locally(home) as url:
        assert httpx.get(f"{url}/beijing/readyz").status_code == 503  # the kit is newer than its schema
        run = fsp("upgrade", "ministry", "beijing", "hebei", "--soak", "1", "--json")
        ready = {slug: httpx.get(f"{url}/{slug}/readyz").status_code for slug in ("ministry", "beijing", "hebei")}

    report = json.loads(run.stdout)
    assert report["outcome"] == "completed" and report["breach"] is None
    assert [(w["name"], [t["tenant"] for t in w["tenants"]], w["outcome"]) for w in report["waves"]] == [
        ("ministry", ["ministry"], "passed"), ("pilots", ["beijing"], "passed"), ("rest", ["hebei"], "passed")]
    for wave in report["waves"]:
        assert wave["soak"]["checks"] >= 1 and wave["soak"]["alerts"] == "not checked: no fleet Prometheus"
        for item in wave["tenants"]:
            assert (item["from_revision"], item["to_revision"], item["outcome"]) == (BEFORE, HEAD, "upgraded")
            assert item["backup"].endswith(".fspbackup")
    assert ready == {"ministry": 200, "beijing": 200, "hebei": 200}
    state = json.loads((home / "tenants" / "beijing" / "state.json").read_text())
    assert state["migration"] == HEAD and state["served"] is True
    assert [(u["from"], u["to"], u["outcome"]) for u in state["upgrades"]] == [(BEFORE, HEAD, "upgraded")]


def test_a_failed_migration_halts_the_rollout_and_rollback_returns_the_wave(fleet, fsp, home, backup_key,
                                                                          write_cases, db_backend):
    from served import serving_locally

    written = write_cases(2)
    local = fleet("tianjin", "hebei")
    _refuse_revision_changes(local, "tianjin", db_backend)
    cases = {slug: _count(local, slug, "cases") for slug in ("beijing", "tianjin")}
    with serving_locally(home) as url:
        run = fsp("upgrade", "ministry", "beijing", "tianjin", "hebei", "--rollback", "--json", ok=False)
        served = {slug: httpx.get(f"{url}/{slug}/healthz").status_code for slug in ("beijing", "tianjin")}

    report = json.loads(run.stdout)
    assert report["outcome"] == "halted" and report["rolled_back"] is True
    assert report["breach"]["tenant"] == "tianjin" and report["breach"]["wave"] == "pilots"
    assert report["breach"]["step"] == "migrate" and "injected failure" in report["breach"]["reason"]
    waves = {w["name"]: w for w in report["waves"]}
    assert (waves["ministry"]["outcome"], waves["pilots"]["outcome"], waves["rest"]["outcome"]) == (
        "passed", "halted", "not started")
    pilots = {t["tenant"]: t for t in waves["pilots"]["tenants"]}
    assert pilots["beijing"]["rollback"] == f"downgraded to {BEFORE}"
    # one transaction per migration on both backends: the failed one left nothing to undo
    assert pilots["tianjin"]["rollback"].startswith("unchanged")
    assert waves["rest"]["tenants"][0]["outcome"] == "not started"
    assert "error: upgrade halted in wave pilots: tianjin: migrate:" in run.stderr
    # the ministry's wave passed and stays; the failed wave and the one never started are where they were
    assert {slug: _revision(local, slug) for slug in ("ministry", "beijing", "tianjin", "hebei")} == {
        "ministry": HEAD, "beijing": BEFORE, "tianjin": BEFORE, "hebei": BEFORE}
    assert {slug: _count(local, slug, "cases") for slug in ("beijing", "tianjin")} == cases
    assert cases["beijing"] == len(written)
    assert served == {"beijing": 200, "tianjin": 200}  # served again after the rollback
    state = json.loads((home / "tenants" / "beijing" / "state.json").read_text())
    assert [u["outcome"] for u in state["upgrades"]] == ["upgraded", "rolled back"]
    assert state["migration"] == BEFORE
    tianjin = json.loads((home / "tenants" / "tianjin" / "state.json").read_text())
    assert [u["outcome"] for u in tianjin["upgrades"]] == ["failed", "rolled back"]
    assert tianjin["lifecycle"]["state"] == "active"  # failed while the upgrade failed, active once rolled back
    assert [h["outcome"] for h in tianjin["history"] if h["resource"] == "lifecycle"][-2:] == ["failed", "active"]


def test_a_tenant_not_ready_after_its_migration_is_restored_when_it_cannot_be_downgraded_and_failed_without_rollback(
        tenant, fsp, fsp_json, home, backup_key, write_cases, db_backend):
    from served import serving_locally

    written = write_cases(2)
    older = ScriptDirectory.from_config(db.alembic_config("sqlite://")).get_revision(BEFORE).down_revision
    command.downgrade(db.alembic_config(tenant.settings(tenant.catalog.resolve("beijing")).database_url), older)
    _refuse_revision_changes(tenant, "beijing", db_backend, to=older, message="no way back")
    with serving_locally(home):
        # the kit served needs its head: a tenant left one migration short of it never becomes ready
        rolled_back = fsp("upgrade", "beijing", "--to", BEFORE, "--rollback", "--ready-timeout", "4", "--json", ok=False)
        after_rollback = next(row for row in fsp_json("status") if row["tenant"] == "beijing")["lifecycle"]
        failed = fsp("upgrade", "beijing", "--to", BEFORE, "--ready-timeout", "4", "--json", ok=False)
        after_failure = next(row for row in fsp_json("status") if row["tenant"] == "beijing")["lifecycle"]

    [item] = json.loads(rolled_back.stdout)["waves"][0]["tenants"]
    assert (item["tenant"], item["from_revision"], item["to_revision"]) == ("beijing", older, BEFORE)
    assert item["outcome"] == "failed" and item["step"] == "readiness" and "schema not at migration head" in item["reason"]
    assert item["rollback"].startswith("restored from beijing-")  # the downgrade was refused: the backup is taken back
    assert after_rollback["state"] == "active"
    [item] = json.loads(failed.stdout)["waves"][0]["tenants"]
    assert (item["from_revision"], item["outcome"], item["rollback"]) == (older, "failed", None)
    assert after_failure["state"] == "failed"
    assert after_failure["reason"].startswith("upgrade failed at readiness: ") and "schema not at migration head" in \
        after_failure["reason"]
    assert _revision(tenant, "beijing") == BEFORE  # left where the failed upgrade put it, for the operator
    assert _count(tenant, "beijing", "cases") == len(written)


def test_upgrade_refuses_clearly(fsp, home, backup_key):
    assert "--waves 'pilots,everyone'" in fsp("upgrade", "--all", "--waves", "pilots,everyone", ok=False).stderr
    assert "not provisioned here" in fsp("upgrade", "beijing", ok=False).stderr
    fsp("up", "beijing")
    assert "no such migration revision" in fsp("upgrade", "beijing", "--to", "9999", ok=False).stderr
    # no `fsp serve` answering: readiness cannot be checked, so nothing is touched
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        Home(home).record_serve_address("127.0.0.1", probe.getsockname()[1])
    refused = fsp("upgrade", "beijing", ok=False).stderr
    assert "`fsp serve` does not answer" in refused
    assert not (home / "tenants" / "beijing" / "backups").exists()


def test_an_alert_firing_for_the_wave_during_its_soak_halts_it_and_rolls_it_back(tenant, fsp, home, backup_key,
                                                                                monkeypatch):
    """The fleet Prometheus's query API, answered by a stand-in on loopback that has TenantNotReady firing for beijing."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from kc_double.runner import BackgroundServer
    from provisioning_cli import upgrade
    from served import serving_locally

    queries = []

    def query(request):
        queries.append(request.query_params["query"])
        firing = [{"metric": {"alertname": "TenantNotReady", "province": "beijing", "severity": "critical",
                              "alertstate": "firing"}, "value": [0, "1"]}]
        return JSONResponse({"status": "success", "data": {"resultType": "vector", "result": firing}})

    command.downgrade(db.alembic_config(tenant.settings(tenant.catalog.resolve("beijing")).database_url), BEFORE)
    with BackgroundServer(Starlette(routes=[Route("/api/v1/query", query)])) as prometheus, serving_locally(home):
        monkeypatch.setattr(upgrade, "_fleet_prometheus", lambda _local: prometheus)
        run = fsp("upgrade", "beijing", "--soak", "1", "--rollback", "--json", ok=False)

    report = json.loads(run.stdout)
    assert report["breach"] == {"tenant": "beijing", "wave": "pilots", "step": "soak",
                                "reason": "alert firing: TenantNotReady"}
    assert report["alerts"] == f"checked on {prometheus}"
    [wave] = report["waves"]
    assert wave["soak"]["alerts"] == [{"alertname": "TenantNotReady", "province": "beijing", "severity": "critical"}]
    assert wave["tenants"][0]["outcome"] == "upgraded" and wave["tenants"][0]["rollback"] == f"downgraded to {BEFORE}"
    assert queries == ['ALERTS{alertstate="firing",province=~"beijing"}']
    assert _revision(tenant, "beijing") == BEFORE
