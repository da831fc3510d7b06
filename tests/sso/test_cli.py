"""`fsp sso` and `fsp users` against Keycloak over HTTP, and `fsp up` applying the realm of a Keycloak tenant."""
import json
import shutil
import uuid
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from provisioning_cli.main import app

runner = CliRunner()
CATALOG = Path(__file__).resolve().parents[2] / "tenants" / "catalog"


@pytest.fixture
def catalog_dir(tmp_path, tenant) -> Path:
    """The packaged catalog, with Beijing on Keycloak in the test's own realm."""
    target = tmp_path / "catalog"
    shutil.copytree(CATALOG, target)
    entry = yaml.safe_load((target / "beijing.yaml").read_text())
    entry["sso"] = {"provider": "keycloak", "keycloak_url": str(tenant.sso.keycloak_url), "realm": tenant.realm_name}
    (target / "beijing.yaml").write_text(yaml.safe_dump(entry, allow_unicode=True))
    return target


@pytest.fixture
def fsp(monkeypatch, keycloak, catalog_dir):
    """`fsp(*args, ok=True)`: the command in-process with the catalog and the Keycloak admin in the environment."""
    for name in ("FSP_KEYCLOAK_URL", "FSP_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FSP_CATALOG", str(catalog_dir))
    monkeypatch.setenv("FSP_KEYCLOAK_ADMIN_USER", keycloak.admin_username)
    monkeypatch.setenv("FSP_KEYCLOAK_ADMIN_PASSWORD", keycloak.admin_password)

    def run(*args: str, ok: bool = True):
        result = runner.invoke(app, list(args))
        assert result.exit_code == (0 if ok else 1), f"{result.stdout}\n{result.stderr}\n{result.exception!r}"
        assert "Traceback" not in result.stdout + result.stderr
        return result

    return run


def test_realm_prints_the_keycloak_representation(fsp, tenant):
    data = json.loads(fsp("sso", "realm", "110000", "--json").stdout)
    assert data["realm"] == tenant.realm_name and data["passwordPolicy"].startswith("length(8)")
    assert {"bruteForceProtected", "failureFactor", "ssoSessionIdleTimeout", "eventsEnabled", "eventsExpiration",
            "adminEventsEnabled", "roles", "clients"} <= data.keys()
    table = fsp("sso", "realm", "beijing").stdout
    assert "passwordPolicy" in table and "registry-portal" in table


def test_apply_reports_each_object_then_nothing_to_do(fsp, tenant):
    first = json.loads(fsp("sso", "apply", "beijing", "--json").stdout)
    assert {"tenant": "beijing", "realm": tenant.realm_name, "object": "realm", "outcome": "created"} in first
    second = json.loads(fsp("sso", "apply", "beijing", "--json").stdout)
    assert {row["outcome"] for row in second} == {"unchanged"} and len(second) == len(first)
    assert "role system-admin" in fsp("sso", "apply", "beijing").stdout


def test_apply_without_credentials_or_url_is_a_clear_error(fsp, monkeypatch):
    monkeypatch.delenv("FSP_KEYCLOAK_ADMIN_PASSWORD")
    result = fsp("sso", "apply", "beijing", ok=False)
    assert "set FSP_KEYCLOAK_ADMIN_USER and FSP_KEYCLOAK_ADMIN_PASSWORD" in result.stderr
    assert "pass --keycloak-url" in fsp("sso", "apply", "tianjin", ok=False).stderr  # a development tenant


def test_users_add_list_roles_disable(fsp):
    fsp("sso", "apply", "beijing")
    institution = str(uuid.uuid4())
    added = json.loads(fsp("users", "add", "zhang.wei", "--tenant", "beijing", "--role", "registrar",
                           "--institution", institution, "--json").stdout)
    assert added["outcome"] == "created" and len(added["temporary_password"]) >= 12
    assert added["users"][0]["institution_id"] == institution
    again = json.loads(fsp("users", "add", "zhang.wei", "--tenant", "beijing", "--role", "registrar",
                           "--institution", institution, "--json").stdout)
    assert again["outcome"] == "unchanged" and "temporary_password" not in again

    fsp("users", "add", "wu.gang", "--tenant", "beijing", "--role", "system-admin")
    refused = fsp("users", "roles", "wu.gang", "--tenant", "beijing", "--grant", "audit-admin", ok=False)
    assert "三员分立" in refused.stderr and "audit-admin and system-admin" in refused.stderr
    listed = {u["username"]: u for u in json.loads(fsp("users", "list", "--tenant", "beijing", "--json").stdout)}
    assert listed["wu.gang"]["roles"] == ["system-admin"] and "CONFIGURE_TOTP" in listed["wu.gang"]["required_actions"]

    granted = json.loads(fsp("users", "roles", "zhang.wei", "--tenant", "beijing", "--grant", "reviewer",
                             "--json").stdout)
    assert granted["outcome"] == "updated" and granted["users"][0]["roles"] == ["registrar", "reviewer"]
    assert "zhang.wei" in fsp("users", "disable", "zhang.wei", "--tenant", "beijing").stdout
    listed = {u["username"]: u for u in json.loads(fsp("users", "list", "--tenant", "beijing", "--json").stdout)}
    assert listed["zhang.wei"]["enabled"] is False
    assert "no user 'ghost'" in fsp("users", "disable", "ghost", "--tenant", "beijing", ok=False).stderr


def test_up_applies_the_realm_of_a_keycloak_tenant(fsp, tmp_path, keycloak, tenant, monkeypatch):
    home = str(tmp_path / "home")
    results = json.loads(fsp("up", "beijing", "--home", home, "--json").stdout)["resources"]
    assert {"tenant": "beijing", "resource": "realm", "outcome": "created"} in results
    assert not any(r["resource"] == "realm" for r in results if r["tenant"] == "ministry")  # development issuer
    settings = json.loads((Path(home) / "tenants" / "beijing" / "tenant.json").read_text())
    assert settings["token_issuer"] == f"{keycloak.url}/realms/{tenant.realm_name}"
    again = json.loads(fsp("up", "beijing", "--home", home, "--json").stdout)["resources"]
    assert {"tenant": "beijing", "resource": "realm", "outcome": "unchanged"} in again
    monkeypatch.delenv("FSP_KEYCLOAK_ADMIN_USER")
    assert "set FSP_KEYCLOAK_ADMIN_USER" in fsp("up", "beijing", "--home", home, ok=False).stderr
