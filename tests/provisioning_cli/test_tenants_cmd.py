"""`fsp tenants list | show | validate` through the real Typer app."""

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from provisioning_cli.main import app
from tenants import DEFAULT_CATALOG_DIR

runner = CliRunner()


@pytest.fixture(autouse=True)
def _packaged_catalog(monkeypatch):
    # a developer's own FSP_CATALOG must not change what these tests see
    monkeypatch.delenv("FSP_CATALOG", raising=False)


def fsp(*args: str, ok: bool = True):
    """Run `fsp args...`; assert exit 0 (or 1 when ok=False) with the output as the message."""
    result = runner.invoke(app, list(args))
    expected = 0 if ok else 1
    assert result.exit_code == expected, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}\n{result.exception!r}"
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A catalog whose tianjin.yaml keeps audit logs for 30 days only."""
    for slug in ("ministry", "beijing", "tianjin"):
        shutil.copy(DEFAULT_CATALOG_DIR / f"{slug}.yaml", tmp_path)
    with (tmp_path / "tianjin.yaml").open("a", encoding="utf-8") as f:
        f.write("audit_retention_days: 30\n")
    return tmp_path


def test_list_json_has_every_tenant_with_identity_keys():
    rows = json.loads(fsp("tenants", "list", "--json").stdout)
    assert len(rows) == 33
    for row in rows:
        assert {"code", "slug", "name", "name_en", "kind", "pilot"} <= row.keys(), row
    assert rows[0]["slug"] == "ministry"
    assert {"code": "110000", "slug": "beijing", "name": "北京市"}.items() <= rows[1].items()


def test_list_pilots():
    rows = json.loads(fsp("tenants", "list", "--pilots", "--json").stdout)
    assert [r["slug"] for r in rows] == ["beijing", "tianjin", "shandong", "yunnan", "shaanxi"]
    assert all(r["pilot"] is True for r in rows)


def test_list_table_for_people():
    out = fsp("tenants", "list").stdout
    assert "shaanxi" in out and "陕西省" in out and "bingtuan" in out


def test_show_by_code_and_by_slug_agree():
    by_code = json.loads(fsp("tenants", "show", "610000", "--json").stdout)
    by_slug = json.loads(fsp("tenants", "show", "Shaanxi", "--json").stdout)
    assert by_code == by_slug
    assert by_code["slug"] == "shaanxi" and by_code["name_zh"] == "陕西省" and by_code["pilot"] is True


def test_show_includes_defaults():
    spec = json.loads(fsp("tenants", "show", "hebei", "--json").stdout)
    assert spec["protection_grade"] == 3
    assert spec["audit_retention_days"] == 180
    assert spec["sso"] == {"provider": "development", "keycloak_url": None, "realm": "fsp-hebei",
                           "government_identity": None}
    assert spec["exchange"]["batch_size"] == 1000
    assert spec["monitoring"]["scrape_interval_seconds"] == 15


def test_show_table_lists_nested_fields():
    out = fsp("tenants", "show", "130000").stdout
    assert "sso.realm" in out and "fsp-hebei" in out


def test_unknown_tenant():
    result = fsp("tenants", "show", "bejing", ok=False)
    assert result.stderr.strip() == "error: unknown tenant 'bejing'; did you mean: beijing?"
    assert result.stdout == ""


def test_validate_ok():
    result = fsp("tenants", "validate")
    assert result.stdout.strip() == "catalog OK: 33 tenants (1 ministry, 32 provinces, 5 pilots)"


def test_validate_ok_json():
    summary = json.loads(fsp("tenants", "validate", "--json").stdout)
    assert summary == {"ok": True, "tenants": 33, "ministry": 1, "provinces": 32, "pilots": 5}


def test_validate_broken_catalog(broken):
    result = fsp("tenants", "validate", "--catalog", str(broken), ok=False)
    lines = result.stderr.splitlines()
    assert lines[0].startswith("tianjin.yaml: audit_retention_days: "), result.stderr
    assert "180" in lines[0]
    assert lines[-1].startswith("error: invalid tenant catalog"), result.stderr
    assert "catalog OK" not in result.stdout


def test_validate_broken_catalog_json(broken):
    result = fsp("tenants", "validate", "--catalog", str(broken), "--json", ok=False)
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [(p["file"], p["field"]) for p in report["problems"]] == [("tianjin.yaml", "audit_retention_days")]


def test_catalog_from_environment(broken, monkeypatch):
    monkeypatch.setenv("FSP_CATALOG", str(broken))
    result = fsp("tenants", "list", ok=False)
    assert "tianjin.yaml: audit_retention_days" in result.stderr


def test_other_commands_use_the_given_catalog(broken):
    (broken / "tianjin.yaml").unlink()
    rows = json.loads(fsp("tenants", "list", "--json", "--catalog", str(broken)).stdout)
    assert [r["slug"] for r in rows] == ["ministry", "beijing"]
    fsp("tenants", "show", "tianjin", "--catalog", str(broken), ok=False)


def test_missing_catalog_directory(tmp_path):
    result = fsp("tenants", "validate", "--catalog", str(tmp_path / "nope"), ok=False)
    assert "not a directory" in result.stderr
