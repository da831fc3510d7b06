"""`fsp up` on the local target: converges, re-runs change nothing, refuses what it cannot do."""
import json
import shutil
import stat

import pytest

from provisioning_cli.targets.local_state import Home
from tenants import DEFAULT_CATALOG_DIR

RESOURCES = ["database", "migrations", "keys", "settings", "registration", "monitoring", "serve"]
MINISTRY_RESOURCES = [r for r in RESOURCES if r != "registration"]


def _expected(outcome: str, *provinces: str) -> list[dict]:
    rows = [{"tenant": "ministry", "resource": r, "outcome": outcome} for r in MINISTRY_RESOURCES]
    for slug in provinces:
        rows += [{"tenant": slug, "resource": r, "outcome": outcome} for r in RESOURCES]
    return rows


def test_up_two_tenants_provisions_the_ministry_first_then_rerun_is_unchanged(fsp_json, home):
    assert fsp_json("up", "tianjin", "110000")["resources"] == _expected("created", "beijing", "tianjin")
    assert fsp_json("up", "beijing", "tianjin")["resources"] == _expected("unchanged", "beijing", "tianjin")

    peers = sorted(p.name for p in (home / "tenants" / "ministry" / "exchange-peers").iterdir())
    assert peers == ["beijing.pem", "tianjin.pem"]
    target = json.loads((home / "monitoring" / "targets" / "beijing.json").read_text())
    assert target[0]["labels"] == {"province": "beijing", "code": "110000", "__metrics_path__": "/beijing/metrics"}
    assert target[0]["targets"] == ["127.0.0.1:8000"]


def test_up_pilots_and_table_for_people(fsp):
    out = fsp("up", "--pilots").stdout

    for slug in ("ministry", "beijing", "tianjin", "shandong", "yunnan", "shaanxi"):
        assert slug in out
    assert "41 created" in out and "created: database, migrations, keys" in out
    assert "41 unchanged" in fsp("up", "--pilots").stdout


def test_up_records_state_and_settings(fsp, home):
    fsp("up", "beijing")
    tenant_dir = home / "tenants" / "beijing"

    settings = json.loads((tenant_dir / "tenant.json").read_text())
    state = json.loads((tenant_dir / "state.json").read_text())

    assert {k: settings[k] for k in ("tenant_code", "tenant_slug", "role", "token_issuer", "environment")} == {
        "tenant_code": "110000", "tenant_slug": "beijing", "role": "province", "token_issuer": "fsp-dev:beijing",
        "environment": "development"}
    assert settings["database_url"] == f"sqlite:///{(tenant_dir / 'registry.db').resolve()}"
    assert settings["keys_dir"] == str((tenant_dir / "keys").resolve())
    assert state["served"] is True
    assert state["migration"] and state["database"]["backend"] == "sqlite"
    assert set(state["resources"]) == set(RESOURCES)
    assert [h["resource"] for h in state["history"] if h["resource"] != "lifecycle"] == RESOURCES
    assert [h["outcome"] for h in state["history"] if h["resource"] == "lifecycle"] == ["provisioning", "active"]
    assert state["lifecycle"]["state"] == "active"


def test_a_failed_up_leaves_the_tenant_failed_with_its_reason_until_a_good_one(fsp, fsp_json, home):
    fsp("up", "ministry", "--postgres", "postgresql+psycopg://nobody@127.0.0.1:1/postgres", ok=False)

    state = json.loads((home / "tenants" / "ministry" / "state.json").read_text())
    assert state["lifecycle"]["state"] == "failed"
    assert state["lifecycle"]["reason"]
    fsp("up", "ministry")
    [row] = [r for r in fsp_json("status", "ministry") if r["tenant"] == "ministry"]
    assert row["lifecycle"]["state"] == "active" and row["lifecycle"]["state_zh"] == "运行中"


def test_files_are_private(fsp, home):
    fsp("up", "beijing")
    tenant_dir = home / "tenants" / "beijing"

    for path in [tenant_dir, tenant_dir / "keys", tenant_dir / "secrets"]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    files = [p for p in tenant_dir.rglob("*") if p.is_file()]
    assert len(files) >= 8  # database, tenant.json, state.json, five keys
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_down_then_up_serves_again(fsp_json):
    fsp_json("up", "beijing")
    fsp_json("down", "beijing")

    rows = fsp_json("up", "beijing")["resources"]

    outcomes = {(r["tenant"], r["resource"]): r["outcome"] for r in rows}
    assert outcomes[("beijing", "serve")] == "updated"
    assert outcomes[("beijing", "monitoring")] == "created"
    assert outcomes[("beijing", "database")] == "unchanged"


def test_a_changed_key_file_mode_is_reported_updated(fsp_json, home):
    fsp_json("up", "beijing")
    (home / "tenants" / "beijing" / "keys" / "field-sm4.key").chmod(0o644)

    rows = fsp_json("up", "beijing")["resources"]

    changed = [(r["tenant"], r["resource"]) for r in rows if r["outcome"] != "unchanged"]
    assert changed == [("beijing", "keys")]


@pytest.mark.parametrize("args, message", [
    ((), "name the tenants to provision"),
    (("bejing",), "unknown tenant 'bejing'; did you mean: beijing?"),
    (("beijing", "--target", "aws"), "unknown target 'aws'"),
])
def test_up_refuses_clearly(fsp, home, args, message):
    result = fsp("up", *args, ok=False)

    assert message in result.stderr
    assert not (home / "tenants").exists()


def test_a_postgres_tenant_cannot_switch_silently(fsp, tmp_path):
    fsp("up", "beijing")

    result = fsp("up", "beijing", "--postgres", "postgresql+psycopg://nobody@127.0.0.1:1/postgres", ok=False)

    assert "provisioned on SQLite" in result.stderr


def test_switching_exchange_off_removes_the_registration(fsp_json, home, tmp_path):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    for slug in ("ministry", "beijing"):
        shutil.copy(DEFAULT_CATALOG_DIR / f"{slug}.yaml", catalog)
    fsp_json("up", "beijing", "--catalog", str(catalog))
    with (catalog / "beijing.yaml").open("a", encoding="utf-8") as f:
        f.write("exchange:\n  enabled: false\n")

    rows = fsp_json("up", "beijing", "--catalog", str(catalog))["resources"]

    changed = [(r["tenant"], r["resource"], r["outcome"]) for r in rows if r["outcome"] != "unchanged"]
    assert changed == [("beijing", "registration", "deleted")]
    assert not (home / "tenants" / "ministry" / "exchange-peers" / "beijing.pem").exists()


def test_one_command_at_a_time_changes_the_home(fsp, home):
    with Home(home).lock():
        result = fsp("up", "beijing", ok=False)

    assert "another fsp command is changing" in result.stderr
    fsp("up", "beijing")  # free again
