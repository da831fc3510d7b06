"""`fsp baseline check`: a freshly provisioned pilot passes but for what only a deployment can meet; each
weakening fails the control it breaks; the JSON, the record the ministry reads, and the assessors' HTML."""
import json
from datetime import datetime

import pytest
from sqlalchemy import text

from provisioning_cli.baseline.controls import CONTROLS

DEPLOYMENT_ONLY = "仅实际部署能满足"


@pytest.fixture
def pilot(tenant, write_cases, fsp, backup_key):
    """Beijing as an operator leaves it: provisioned, in use, backed up, the backup drilled."""
    write_cases(2)
    fsp("backup", "beijing")
    fsp("backup", "drill", "beijing")
    return tenant


def _check(fsp, *, ok: bool = True, args: tuple[str, ...] = ()) -> dict:
    return json.loads(fsp("baseline", "check", "beijing", "--json", *args, ok=ok).stdout)


def _controls(report: dict) -> dict[str, dict]:
    return {c["id"]: c for c in report["controls"]}


def _failed_checks(report: dict) -> set[str]:
    return {f["check"] for c in report["controls"] for f in c["findings"] if f["status"] == "fail"}


def test_a_fresh_pilot_passes_but_for_what_only_a_deployment_can_meet(pilot, fsp):
    report = _check(fsp)

    assert report["compliant"] and report["failed_mandatory"] == [] and report["counts"]["fail"] == 0
    assert {c["id"] for c in report["controls"]} == {c.id for c in CONTROLS}
    findings = [f for c in report["controls"] for f in c["findings"]]
    # each control not met here says why: only a deployment meets it, and how
    for finding in findings:
        if finding["status"] == "not_applicable":
            assert finding["remedy"].startswith(DEPLOYMENT_ONLY), finding
        assert finding["evidence"] and finding["where"]
    for control in report["controls"]:
        if control["status"] == "manual":
            assert control["assessor"]  # what the assessor must look at
    passed = {f["check"] for f in findings if f["status"] == "pass"}
    assert {"data.encrypted_at_rest", "audit.chain", "audit.anchor", "backup.recency", "backup.drill",
            "database.least_privilege", "keys.protected", "service.security_headers", "service.rate_limits",
            "k8s.policy_pack", "k8s.ingress_tls"} <= passed
    encrypted = next(f for f in findings if f["check"] == "data.encrypted_at_rest")
    assert "4 个抽样值" in encrypted["evidence"]  # two cases, an ID number and a phone each: sampled, not assumed


def test_the_development_issuer_outside_development_fails_authentication(pilot, fsp):
    settings = pilot.home.tenant("beijing").settings
    data = json.loads(settings.read_text())
    settings.write_text(json.dumps({**data, "environment": "production"}))

    report = _check(fsp, ok=False)

    assert {"DJ-IA-5", "MP-AD-1"} <= set(report["failed_mandatory"])
    issuer = next(f for f in _controls(report)["DJ-IA-5"]["findings"] if f["check"] == "issuer.development")
    assert issuer["status"] == "fail" and "fsp-dev:beijing" in issuer["evidence"]
    # outside development, what only a deployment meets is no longer excused
    assert {"service.tls", "service.virus_scan", "realm.admin_otp"} <= _failed_checks(report)


def test_a_missing_backup_fails_backup_and_recovery(pilot, fsp):
    for backup in (pilot.home.tenant("beijing").root / "backups").glob("*.fspbackup"):
        backup.unlink()

    report = _check(fsp, ok=False)

    assert report["failed_mandatory"] == ["DJ-BR-1"] and _failed_checks(report) == {"backup.recency"}


def test_a_tampered_audit_entry_fails_audit_protection(pilot, fsp):
    with pilot.engine(pilot.catalog.resolve("beijing")) as engine, engine.begin() as connection:
        connection.execute(text("UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 2"))

    report = _check(fsp, ok=False)

    assert {"DJ-AU-1", "DJ-AU-2", "DJ-DI-1", "MP-AD-4"} <= set(report["failed_mandatory"])
    chain = next(f for f in _controls(report)["DJ-AU-2"]["findings"] if f["check"] == "audit.chain")
    assert "第 2 条" in chain["evidence"]


def test_a_plaintext_personal_data_column_fails_confidentiality(pilot, fsp):
    with pilot.engine(pilot.catalog.resolve("beijing")) as engine, engine.begin() as connection:
        connection.execute(text("UPDATE cases SET informant_phone_cipher = '13800138000'"))

    report = _check(fsp, ok=False)

    assert {"DJ-DC-2", "DJ-DI-1", "DJ-PI-1", "MP-AD-3"} <= set(report["failed_mandatory"])
    assert _failed_checks(report) == {"data.encrypted_at_rest"}
    finding = _controls(report)["DJ-DC-2"]["findings"][0]
    assert "cases.informant_phone_cipher" in finding["evidence"] and "cases.id_number_cipher" not in finding["evidence"]


def test_the_json_names_clauses_and_evidence_and_the_last_result_is_recorded(pilot, fsp):
    report = _check(fsp)

    assert {"tenant", "code", "environment", "checked_at", "compliant", "failed_mandatory", "counts", "controls",
            "algorithms"} <= report.keys()
    control = _controls(report)["DJ-AC-3"]
    assert control["standard"] == "GB/T 22239-2019" and control["clause"] == "8.1.4.2 d)" and control["mandatory"]
    assert set(control["findings"][0]) == {"check", "status", "evidence", "where", "remedy"}
    assert any(a["algorithm"] == "SM4-GCM" for a in report["algorithms"])
    recorded = json.loads((pilot.home.tenant("beijing").root / "baseline.json").read_text())
    assert recorded["checked_at"] == report["checked_at"] and recorded["counts"] == report["counts"]
    assert "controls" not in recorded  # the record says how the tenant stands, the evidence stays in the report


def test_the_html_report_is_for_assessors_in_chinese(pilot, fsp, tmp_path):
    out = tmp_path / "report.html"
    table = fsp("baseline", "check", "beijing", "--html", str(out)).stdout

    page = out.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "安全基线核查报告" in page and "8.1.4.8 b)" in page
    assert "@media print" in page and "http://" not in page.split("<body>")[0] and "https://" not in page
    assert "密码算法使用情况" in page and "需人工核查" in page
    assert "DJ-BR-1" in table


def test_a_tenant_not_provisioned_is_refused(fsp):
    result = fsp("baseline", "check", "beijing", ok=False)
    assert "not provisioned" in result.stderr


def test_the_tenants_metrics_export_the_last_baseline_for_the_ministry(pilot, fsp):
    from fastapi.testclient import TestClient
    from prometheus_client.parser import text_string_to_metric_families

    from registry.app import create_app

    def scrape() -> dict[tuple[str, tuple], float]:
        app = create_app(pilot.settings(pilot.catalog.resolve("beijing")))
        with TestClient(app) as client:
            body = client.get("/metrics").text
        app.state.ctx.engine.dispose()
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(body) for s in family.samples}

    assert not any(name.startswith("fsp_baseline") for name, _ in scrape())  # never checked: no series, not "0"
    report = _check(fsp)
    found = scrape()

    for status, n in report["counts"].items():
        assert found[("fsp_baseline_controls", (("status", status),))] == n
    assert found[("fsp_baseline_compliant", ())] == 1
    assert found[("fsp_baseline_last_check_timestamp_seconds", ())] == \
        datetime.fromisoformat(report["checked_at"]).timestamp()
