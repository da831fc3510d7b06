"""`fsp up` over the fleet: it converges every tenant it can, names those it cannot, and exits 1; `--parallel N`
gives the same result as one at a time; suspended and offboarded tenants are left alone unless named."""
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provisioning_cli.lifecycle import Lifecycle, set_lifecycle
from provisioning_cli.main import app
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_state import read_json, write_state
from registry.security.keys import PERSON_MATCH_KEY
from tenants import load_catalog

PILOTS = ["ministry", "beijing", "tianjin", "shandong", "yunnan", "shaanxi"]


def _summary(run) -> dict[str, dict]:
    """The per-tenant summary of `fsp up --json`, without the timings (which differ from run to run)."""
    return {t["tenant"]: {k: v for k, v in t.items() if k != "seconds"} for t in json.loads(run.stdout)["tenants"]}


def _converged(slug: str) -> dict:
    return {"tenant": slug, "outcome": "converged", "lifecycle": "active", "step": None, "reason": None}


@pytest.mark.parametrize("parallel", ["1", "2"])
def test_up_goes_on_past_a_broken_tenant_names_it_and_exits_1(fsp, home, parallel):
    fsp("up", "--pilots")
    (home / "tenants" / "tianjin" / "registry.db").write_bytes(b"not a database" * 100)

    run = fsp("up", "--pilots", "--parallel", parallel, "--json", ok=False)

    summary = _summary(run)
    assert list(summary) == PILOTS  # the catalog's order, however the work was spread
    broken = summary.pop("tianjin")
    assert broken["outcome"] == "failed" and broken["lifecycle"] == "failed" and broken["step"] == "migrations"
    assert "file is not a database" in broken["reason"]
    assert summary == {slug: _converged(slug) for slug in PILOTS if slug != "tianjin"}
    resources = json.loads(run.stdout)["resources"]
    assert {r["tenant"] for r in resources} == set(PILOTS) - {"tianjin"}
    assert {r["outcome"] for r in resources} == {"unchanged"}
    assert f"error: tianjin: migrations: {broken['reason']}" in run.stderr
    state = read_json(home / "tenants" / "tianjin" / "state.json")
    assert state["lifecycle"]["state"] == "failed" and "file is not a database" in state["lifecycle"]["reason"]


def test_the_table_for_people_names_the_failed_step_and_counts_the_failures(fsp, home):
    fsp("up", "beijing", "tianjin")
    (home / "tenants" / "tianjin" / "registry.db").write_bytes(b"not a database" * 100)

    run = fsp("up", "beijing", "tianjin", ok=False)

    assert "tianjin" in run.stdout and "failed" in run.stdout and "migrations:" in run.stdout
    assert "13 unchanged, 1 tenant(s) failed" in run.stdout
    assert run.stderr.count("error: ") == 1


def test_parallel_provisioning_gives_what_one_at_a_time_gives(tmp_path: Path):
    def provision(home: Path, *extra: str) -> tuple[dict, list]:
        run = CliRunner().invoke(app, ["up", "--pilots", "--json", *extra, "--home", str(home)])
        assert run.exit_code == 0, run.stderr
        return _summary(run), json.loads(run.stdout)["resources"]

    serial, parallel = provision(tmp_path / "serial"), provision(tmp_path / "parallel", "--parallel", "3")

    assert serial == parallel
    assert serial[0] == {slug: _converged(slug) for slug in PILOTS}
    # every province copied the one fleet key the first of them made
    keys = {(tmp_path / "parallel" / "tenants" / slug / "keys" / PERSON_MATCH_KEY).read_bytes()
            for slug in PILOTS[1:]}
    assert keys == {(tmp_path / "parallel" / "fleet" / "keys" / PERSON_MATCH_KEY).read_bytes()}


def test_a_postgres_tenant_whose_server_is_unreachable_fails_alone(fsp, home, pg_admin_url):
    fsp("up", "beijing", "--postgres", pg_admin_url)
    fsp("up", "tianjin", "shandong")
    admin_secret = home / "tenants" / "beijing" / "secrets" / "postgres-admin-url"
    admin_secret.write_text("postgresql+psycopg://nobody@127.0.0.1:1/postgres")
    try:
        run = fsp("up", "beijing", "tianjin", "shandong", "--parallel", "2", "--json", ok=False)
    finally:
        admin_secret.write_text(pg_admin_url)
        target = LocalTarget(home, load_catalog())
        target.purge(target.catalog.resolve("beijing"), postgres_url=pg_admin_url)

    summary = _summary(run)
    assert summary["beijing"]["outcome"] == "failed" and summary["beijing"]["step"] == "database"
    assert "cannot connect to PostgreSQL at postgresql+psycopg://nobody@127.0.0.1:1" in summary["beijing"]["reason"]
    assert {slug: summary[slug]["outcome"] for slug in ("ministry", "tianjin", "shandong")} == dict.fromkeys(
        ("ministry", "tianjin", "shandong"), "converged")


def test_fleet_wide_up_skips_a_suspended_tenant_unless_it_is_named(fsp, home):
    fsp("up", "--pilots")
    path = home / "tenants" / "shandong" / "state.json"
    state = read_json(path)
    set_lifecycle(state, Lifecycle.suspended, "audit in progress")
    write_state(path, state)

    skipped = _summary(fsp("up", "--pilots", "--json"))["shandong"]
    named = _summary(fsp("up", "--pilots", "shandong", "--json"))["shandong"]

    assert skipped["outcome"] == "skipped" and skipped["lifecycle"] == "suspended"
    assert named["outcome"] == "converged" and named["lifecycle"] == "suspended"  # converged, still suspended
