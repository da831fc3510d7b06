"""The drift alert as shipped: labelled, explained and linked to its runbook section, rendered into the fleet's
Prometheus (its promtool unit test runs with the others in test_rules_and_render)."""
import yaml

from monitoring.render import DRIFT_ALERTS, RULES_DIR, RenderOptions, fleet_files, rules_text
from tenants import load_catalog


def test_fsp_drift_found_is_a_warning_with_a_summary_and_a_runbook_section():
    (rule,) = [rule for group in yaml.safe_load((RULES_DIR / DRIFT_ALERTS).read_text())["groups"]
               for rule in group["rules"]]
    assert rule["alert"] == "FspDriftFound" and rule["labels"]["severity"] == "warning"
    assert "{{ $labels.province }}" in rule["annotations"]["summary"]
    assert rule["annotations"]["runbook_url"].endswith("#fspdriftfound")
    assert "\n## FspDriftFound\n" in (RULES_DIR.parents[1] / "RUNBOOK.md").read_text()


def test_the_fleet_prometheus_loads_the_drift_alert_with_the_renderings_options():
    catalog = load_catalog()
    files = fleet_files([(catalog.ministry, "127.0.0.1:9090")], RenderOptions(alert_for="1m", runbook_base="https://ops.example.cn/r.md"))
    assert f"rules/{DRIFT_ALERTS}" in yaml.safe_load(files["prometheus.yml"])["rule_files"]
    (rule,) = yaml.safe_load(files[f"rules/{DRIFT_ALERTS}"])["groups"][0]["rules"]
    assert rule["for"] == "1m" and rule["annotations"]["runbook_url"] == "https://ops.example.cn/r.md#fspdriftfound"
    assert rules_text(DRIFT_ALERTS, RenderOptions()) == (RULES_DIR / DRIFT_ALERTS).read_text()
