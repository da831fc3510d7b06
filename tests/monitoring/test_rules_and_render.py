"""The rendered configuration and the shipped rules pass promtool; dashboards query only what the rules record."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from monitoring.render import FLEET_RULES, GRAFANA_DIR, RULES_DIR, TENANT_RULES
from tenants import DEFAULT_CATALOG_DIR, load_catalog

PROMTOOL = "/usr/bin/promtool"
RULE_TESTS = Path(__file__).resolve().parents[2] / "monitoring" / "prometheus" / "tests"


def promtool(*args: str) -> str:
    done = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"promtool {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_rules_check_and_their_unit_tests_pass():
    promtool("check", "rules", *map(str, sorted(RULES_DIR.glob("*.yml"))))
    tests = sorted(RULE_TESTS.glob("*.test.yml"))
    assert [test.name for test in tests] == ["drift.test.yml", "fleet.alerts.test.yml", "tenant.rules.test.yml"]
    promtool("test", "rules", *map(str, tests))


def test_every_alert_has_severity_summary_runbook_and_a_firing_and_a_silent_case():
    alerts = [rule for group in yaml.safe_load((RULES_DIR / "fleet.alerts.yml").read_text())["groups"]
              for rule in group["rules"]]
    assert {rule["alert"] for rule in alerts} == {"FspProvinceDown", "FspErrorRatioHigh", "FspLatencyHigh",
                                                 "FspExchangeLagHigh", "FspExchangeStopped", "FspCrossProvinceMatchesNotPulled",
                                                 "FspAuditChainBroken",
                                                 "FspBackupStale", "FspBackupDrillStale", "FspBackupDrillFailed",
                                                 "FspEquipmentOverheating", "FspEquipmentColdChainBreak",
                                                 "FspEquipmentSilent", "FspEquipmentEmissionOverLimit",
                                                 "FspEquipmentCycleTooLong", "FspTenantMissing", "FspTenantNotExchanging",
                                                 "FspTenantFailed", "FspExpectedTenantsUnknown"}
    tests = yaml.safe_load((RULE_TESTS / "fleet.alerts.test.yml").read_text())["tests"]
    for rule in alerts:
        assert rule["labels"]["severity"] in ("critical", "warning")
        assert rule["annotations"]["summary"] and rule["annotations"]["runbook_url"].startswith("https://")
        mine = [test for test in tests if any(c["alertname"] == rule["alert"] for c in test.get("alert_rule_test", []))]
        cases = [case for test in mine for case in test["alert_rule_test"]]
        assert any(case["exp_alerts"] for case in cases), f"{rule['alert']} never fires in a test"
        # silent cases: an evaluation before it fires, and a healthy province in the input that never fires
        assert any(not case["exp_alerts"] for case in cases), f"{rule['alert']} has no silent evaluation"
        given = {p for test in mine for series in test["input_series"]
                 for p in re.findall(r'province="([a-z-]+)"', series["series"])}
        fired = {alert["exp_labels"]["province"] for case in cases for alert in case["exp_alerts"]}
        assert fired < given, rule["alert"]


def test_render_writes_every_tenant_and_the_ministry_and_promtool_accepts_them(fsp, tmp_path):
    out = tmp_path / "rendered"
    written = json.loads(fsp("monitoring", "render", "--out", str(out), "--scrape-interval", "5s", "--json").stdout)
    catalog = load_catalog()
    assert len(catalog.tenants) == 33
    configs = [out / "tenants" / spec.slug / "prometheus.yml" for spec in catalog.tenants]
    promtool("check", "config", *map(str, configs), str(out / "fleet" / "prometheus.yml"))
    assert {row["outcome"] for row in written} == {"created"}

    beijing = yaml.safe_load((out / "tenants" / "beijing" / "prometheus.yml").read_text())
    assert beijing["global"]["external_labels"] == {"province": "beijing"}
    assert beijing["global"]["scrape_interval"] == "5s"
    job = beijing["scrape_configs"][0]
    assert job["metrics_path"] == "/beijing/metrics"
    assert job["static_configs"] == [{"targets": ["127.0.0.1:8000"], "labels": {"province": "beijing", "code": "110000"}}]

    fleet = yaml.safe_load((out / "fleet" / "prometheus.yml").read_text())
    # the ministry records equipment faults per province from its own alerts
    assert fleet["rule_files"] == ["rules/fleet.alerts.yml", "rules/fleet.rules.yml", "rules/drift.alerts.yml"]
    assert beijing["rule_files"] == ["rules/tenant.rules.yml", "rules/drift.rules.yml"]
    assert (out / "fleet" / "rules" / "fleet.rules.yml").exists()
    federate = fleet["scrape_configs"][0]
    assert federate["honor_labels"] is True and federate["metrics_path"] == "/federate"
    assert federate["params"]["match[]"] == ['{__name__=~"tenant:.*"}', "up"]
    provinces = {entry["labels"]["province"] for entry in federate["static_configs"]}
    assert provinces == {spec.slug for spec in catalog.tenants}
    ports = [entry["targets"][0] for entry in federate["static_configs"]]
    assert len(set(ports)) == 33

    # Alertmanager's, as `fsp monitoring up` and the Kubernetes stack run it: valid for the real amtool
    done = subprocess.run(["/usr/bin/amtool", "check-config", str(out / "alertmanager" / "alertmanager.yml")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    route = yaml.safe_load((out / "alertmanager" / "alertmanager.yml").read_text())["route"]
    assert route["group_by"] == ["province", "severity"]

    again = json.loads(fsp("monitoring", "render", "--out", str(out), "--scrape-interval", "5s", "--json").stdout)
    assert {row["outcome"] for row in again} == {"unchanged"}


def test_alert_for_override_reaches_every_alert(fsp, tmp_path):
    out = tmp_path / "rendered"
    fsp("monitoring", "render", "--out", str(out), "--alert-for", "0s")
    rendered = yaml.safe_load((out / "fleet" / "rules" / "fleet.alerts.yml").read_text())
    assert {rule["for"] for group in rendered["groups"] for rule in group["rules"]} == {"0s"}
    promtool("check", "rules", str(out / "fleet" / "rules" / "fleet.alerts.yml"))


@pytest.mark.parametrize("args, message", [
    (("--scrape-interval", "fast"), "not a Prometheus duration"),
    (("--registry-url", "ftp://x/{slug}"), "http://"),
    (("--prometheus-address", "{nope}:9090"), "bad template"),
    (("--runbook-base", "ops wiki"), "not an http(s) URL"),
])
def test_render_refuses_bad_options_and_writes_nothing(fsp, tmp_path, args, message):
    out = tmp_path / "rendered"
    assert message in fsp("monitoring", "render", "--out", str(out), *args, ok=False).stderr
    assert not out.exists()


def test_dashboards_query_only_recorded_series():
    recorded = {rule["record"] for name in (TENANT_RULES, FLEET_RULES)
                for group in yaml.safe_load((RULES_DIR / name).read_text())["groups"] for rule in group["rules"]}
    boards = {path.name: json.loads(path.read_text()) for path in GRAFANA_DIR.glob("*.json")}
    assert set(boards) == {"fleet.json", "province.json"}
    for name, board in boards.items():
        exprs = [target["expr"] for panel in board["panels"] for target in panel.get("targets", [])]
        assert exprs, name
        used = {token for expr in exprs for token in re.findall(r"(?:tenant|fsp):[a-z0-9_:]+", expr)}
        assert used and used <= recorded, (name, used - recorded)
    variables = {v["name"] for v in boards["province.json"]["templating"]["list"]}
    assert "province" in variables


def test_runbook_base_links_every_alert_to_its_section(fsp, tmp_path):
    out = tmp_path / "rendered"
    fsp("monitoring", "render", "--out", str(out), "--runbook-base", "https://ops.example.cn/fsp/RUNBOOK.md")
    rendered = yaml.safe_load((out / "fleet" / "rules" / "fleet.alerts.yml").read_text())
    runbook = (RULES_DIR.parents[1] / "RUNBOOK.md").read_text()
    for rule in (rule for group in rendered["groups"] for rule in group["rules"]):
        assert rule["annotations"]["runbook_url"] == f"https://ops.example.cn/fsp/RUNBOOK.md#{rule['alert'].lower()}"
        assert f"\n## {rule['alert']}\n" in runbook
    assert "not an http(s) URL" in fsp("monitoring", "render", "--out", str(out), "--runbook-base", "x",
                                       ok=False).stderr


def test_intervals_come_from_each_tenants_catalog_entry_unless_given(fsp, tmp_path):
    catalog = tmp_path / "catalog"
    shutil.copytree(DEFAULT_CATALOG_DIR, catalog)
    with (catalog / "beijing.yaml").open("a") as entry:
        entry.write("monitoring:\n  scrape_interval_seconds: 30\n")
    out = tmp_path / "rendered"
    fsp("monitoring", "render", "--out", str(out), "--catalog", str(catalog))

    def interval(slug: str) -> dict:
        return yaml.safe_load((out / "tenants" / slug / "prometheus.yml").read_text())["global"]

    assert interval("beijing") == {"scrape_interval": "30s", "evaluation_interval": "30s",
                                   "external_labels": {"province": "beijing"}}
    assert interval("tianjin")["scrape_interval"] == "15s"
    fsp("monitoring", "render", "--out", str(out), "--catalog", str(catalog), "--evaluation-interval", "1m")
    assert interval("beijing")["evaluation_interval"] == "1m" and interval("beijing")["scrape_interval"] == "30s"
