"""The baseline's realm checks read the realm through Keycloak's admin API (here the schema-checked double):
a realm as `fsp sso apply` leaves it, with the 三员 held by three people, passes; each weakening fails its check."""
import json
import secrets
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from infra.ensure.realm import apply_realm, connect
from infra.ensure.realm_users import add_user
from kc_double.runner import BackgroundServer
from kc_double.server import KeycloakDouble
from provisioning_cli.baseline.checks_realm import CHECKS
from provisioning_cli.baseline.subject import Subject
from provisioning_cli.main import app
from provisioning_cli.targets.local import LocalTarget
from tenants import TenantSpec, load_catalog

CATALOG = Path(__file__).resolve().parents[2] / "tenants" / "catalog"
THREE = {"zhang.san": "system-admin", "li.si": "security-admin", "wang.wu": "audit-admin"}


@pytest.fixture(scope="module")
def double():
    server = KeycloakDouble()
    with BackgroundServer(server.app) as url:
        yield server, url


@pytest.fixture
def realm_tenant(double, tmp_path):
    """Beijing on the double in a realm of its own, applied, with the 三员 given to three people."""
    server, url = double
    spec = load_catalog().resolve("beijing")
    sso = {"provider": "keycloak", "keycloak_url": url, "realm": f"fsp-b-{secrets.token_hex(4)}"}
    spec = TenantSpec.model_validate({**spec.model_dump(mode="json"), "sso": sso})
    apply_realm(url, server.admin_username, server.admin_password, spec)
    admin = connect(url, server.admin_username, server.admin_password, spec.realm_name)
    for username, role in THREE.items():
        add_user(admin, spec, username, roles={role})
    subject = Subject(spec=spec, local=LocalTarget(tmp_path / "home", load_catalog()),
                      connect_realm=lambda: connect(url, server.admin_username, server.admin_password, spec.realm_name))
    yield spec, admin, subject
    server.reset()


def _verdicts(subject: Subject) -> dict[str, tuple[str, str]]:
    return {name: (f.status.value, f.evidence) for name, check in CHECKS.items() for f in (check(subject),)}


def test_a_realm_as_applied_with_three_administrators_passes(realm_tenant):
    _, _, subject = realm_tenant
    verdicts = _verdicts(subject)
    assert {status for status, _ in verdicts.values()} == {"pass"}, verdicts
    assert "zhang.san" in verdicts["realm.separation_of_duties"][1]


def test_a_weakened_realm_fails_the_checks_it_breaks(realm_tenant):
    spec, admin, subject = realm_tenant
    admin.update_realm(spec.realm_name, {"realm": spec.realm_name, "passwordPolicy": "length(6) and digits(1)",
                                         "bruteForceProtected": False, "ssoSessionIdleTimeout": 7200,
                                         "eventsExpiration": 30 * 86400})
    verdicts = _verdicts(subject)
    failed = {name for name, (status, _) in verdicts.items() if status == "fail"}
    assert failed == {"realm.password_policy", "realm.lockout", "realm.idle_timeout", "realm.event_retention"}
    assert "length(6)" in verdicts["realm.password_policy"][1]


def test_one_person_holding_two_of_the_three_administrators_fails_separation(realm_tenant):
    spec, admin, subject = realm_tenant
    user_id = admin.get_user_id("zhang.san")
    audit_role = admin.get_realm_role("audit-admin")
    admin.assign_realm_roles(user_id, [{"id": audit_role["id"], "name": "audit-admin"}])  # past `fsp users`' refusal
    status, evidence = _verdicts(subject)["realm.separation_of_duties"]
    assert status == "fail" and "zhang.san" in evidence.split("兼任")[-1]


def test_an_administrator_without_a_second_factor_fails_and_passes_once_enrolled(realm_tenant, double):
    spec, admin, subject = realm_tenant
    user_id = admin.get_user_id("li.si")
    admin.update_user(user_id, {"requiredActions": []})  # someone removed the enrolment the account was made with
    status, evidence = _verdicts(subject)["realm.admin_otp"]
    assert status == "fail" and "li.si" in evidence
    double[0].realms[spec.realm_name].users[user_id].otp_enrolled = True
    assert _verdicts(subject)["realm.admin_otp"][0] == "pass"


def test_a_shared_account_fails_personal_accounts(realm_tenant, double):
    spec, admin, subject = realm_tenant
    admin.create_user({"username": "admin", "enabled": True})  # made past `fsp users add`, which refuses the name
    status, evidence = _verdicts(subject)["realm.personal_accounts"]
    assert status == "fail" and "admin" in evidence


def test_fsp_baseline_check_reads_the_realm_of_a_keycloak_tenant(double, tmp_path, monkeypatch):
    server, url = double
    catalog = tmp_path / "catalog"
    shutil.copytree(CATALOG, catalog)
    entry = yaml.safe_load((catalog / "beijing.yaml").read_text())
    entry["sso"] = {"provider": "keycloak", "keycloak_url": url, "realm": f"fsp-c-{secrets.token_hex(4)}"}
    (catalog / "beijing.yaml").write_text(yaml.safe_dump(entry, allow_unicode=True))
    for name in ("FSP_HOME", "FSP_KEYCLOAK_URL", "FSP_POSTGRES_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FSP_CATALOG", str(catalog))
    monkeypatch.setenv("FSP_KEYCLOAK_ADMIN_USER", server.admin_username)
    monkeypatch.setenv("FSP_KEYCLOAK_ADMIN_PASSWORD", server.admin_password)
    home = str(tmp_path / "home")
    runner = CliRunner()
    try:
        assert runner.invoke(app, ["up", "beijing", "--home", home]).exit_code == 0
        result = runner.invoke(app, ["baseline", "check", "beijing", "--home", home, "--json"])
    finally:
        server.reset()

    report = json.loads(result.stdout)
    findings = {f["check"]: f for c in report["controls"] for f in c["findings"]}
    assert findings["realm.password_policy"]["status"] == "pass" and entry["sso"]["realm"] in \
        findings["realm.password_policy"]["where"]
    assert findings["issuer.development"]["status"] == "pass"
    # nobody holds the 三员 yet in a realm just made: named, and the command fails
    assert findings["realm.separation_of_duties"]["status"] == "fail" and result.exit_code == 1
    assert "DJ-AC-2" in report["failed_mandatory"]
