"""`fsp devices simulate`: registers a device or acts as one, sends its scenario's readings over HTTP or MQTT to a
province provisioned and served for real on loopback, and sums up what its ingest accepted, which the province's
/metrics shows the same."""
import json
import subprocess
import threading
import time
from datetime import datetime

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from monitoring.render import RULES_DIR
from provisioning_cli.mqtt_bridge import HttpForwarder, MqttBridge

CLOSED = "http://127.0.0.1:9/beijing/api/v1"  # nothing listens: a command that got that far would say so


def simulate(fsp, *args: str, ok: bool = True):
    return fsp("devices", "simulate", "beijing", *args, ok=ok)


def labels(institution: str, device: str, kind: str) -> dict:
    return {"institution": institution, "device": device, "kind": kind}


def test_a_registered_cold_storage_runs_normally_over_http_and_every_reading_is_accepted(fsp, province):
    home = province.institution()
    result = simulate(fsp, "--register", "--institution", home, "--kind", "cold_storage",
                      "--limit", "temperature_max_c=6", "--duration", "2", "--rate", "5", "--json")
    summary = json.loads(result.stdout)

    device = province.device(summary["device"], home)
    assert device["kind"] == "cold_storage" and device["limits"]["temperature_max_c"] == 6.0
    assert device["institution_id"] == home and device["model"] == "FSP-SIM-cold_storage"
    assert summary["batches"] >= 10 and summary["readings"] == summary["accepted"] and summary["refused"] == {}
    latest = {reading["metric"]: reading for reading in device["latest"]}
    assert set(latest) == {"temperature_c", "door_open", "running"} and latest["temperature_c"]["value"] < 6.0
    assert datetime.fromisoformat(device["last_reading_at"]).utcoffset().total_seconds() == 8 * 3600
    assert "registered cold_storage" in result.stderr  # progress and notes go to stderr with --json
    # the credential shown once is the device's: acting as it again, later readings are accepted (seq goes on)
    again = json.loads(simulate(fsp, "--device", summary["device"], "--credential", summary["credential"], "--kind",
                                "cold_storage", "--duration", "1", "--rate", "2", "--json").stdout)
    assert again["accepted"] == again["readings"] > 0 and again["refused"] == {}


def test_an_overheating_cremator_shows_over_its_limit_on_the_provinces_metrics(fsp, province, tmp_path):
    home = province.institution(type="crematorium")
    result = simulate(fsp, "--register", "--institution", home, "--scenario", "overheat", "--duration", "3",
                      "--rate", "4", "--json")
    summary = json.loads(result.stdout)

    series = labels(home, summary["device"], "cremator")
    temperature = province.sample("fsp_equipment_temperature_celsius", **series)
    assert temperature > province.sample("fsp_equipment_temperature_max_celsius", **series) == 1100.0
    assert province.sample("fsp_equipment_readings_total", kind="cremator") == summary["accepted"] == summary["readings"]
    refused = {reason: province.sample("fsp_equipment_readings_refused_total", reason=reason)
               for reason in ("out_of_range", "replayed", "too_old", "unknown_metric", "missing_cycle")}
    assert {reason: n for reason, n in refused.items() if n} == summary["refused"] == {}
    # the alert needs longer than this run: the command says how long
    assert "FspEquipmentOverheating fires about" in result.stderr
    # what the province exports is what the shipped rules read: held for 10 minutes, it raises the alert for this device
    assert_fires(tmp_path, province, series, "FspEquipmentOverheating", minutes=10)


def assert_fires(tmp_path, province, series: dict, alert: str, *, minutes: int) -> None:
    """promtool, on the shipped tenant and fleet rules, fires `alert` for this device and no other equipment alert
    when the device's gauges, as the province's /metrics shows them now, are scraped unchanged for `minutes`."""
    scrape = 'job="registry", instance="a:8000", province="beijing"'  # what the scrape adds
    inputs = [{"series": name + "{" + scrape + "".join(f', {k}="{v}"' for k, v in labels) + "}",
               "values": f"{value!r}x{minutes * 4}"}
              for (name, labels), value in province.metrics().items() if dict(labels) == series]
    expr = 'count by (alertname, institution, device, kind) (ALERTS{alertstate="firing", alertname=~"FspEquipment.+"})'
    expected = f'{{alertname="{alert}"' + "".join(f', {k}="{v}"' for k, v in series.items()) + "}"
    document = {"rule_files": [str(RULES_DIR / "tenant.rules.yml"), str(RULES_DIR / "fleet.alerts.yml")],
                "evaluation_interval": "15s",
                "tests": [{"interval": "15s", "input_series": inputs, "promql_expr_test": [
                    {"expr": expr, "eval_time": f"{minutes}m", "exp_samples": [{"labels": expected, "value": 1}]}]}]}
    path = tmp_path / "exported.test.yml"
    path.write_text(yaml.safe_dump(document))
    done = subprocess.run(["promtool", "test", "rules", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_readings_past_what_a_sensor_can_report_are_refused_and_counted_alike(fsp, province):
    home = province.institution(type="crematorium")
    device, credential = province.register(home, temperature_max_c=1350)  # overheating goes past 1400 °C
    result = simulate(fsp, "--device", device, "--credential", credential, "--scenario", "overheat",
                      "--limit", "temperature_max_c=1350", "--duration", "2", "--rate", "5", "--json")
    summary = json.loads(result.stdout)

    assert summary["refused"]["out_of_range"] > 0 and set(summary["refused"]) == {"out_of_range"}
    assert summary["accepted"] + summary["refused"]["out_of_range"] == summary["readings"]
    assert province.sample("fsp_equipment_readings_refused_total", reason="out_of_range") == summary["refused"]["out_of_range"]
    assert province.sample("fsp_equipment_readings_total", kind="cremator") == summary["accepted"]
    plain = simulate(fsp, "--device", device, "--credential", credential, "--scenario", "overheat",
                     "--limit", "temperature_max_c=1350", "--duration", "1", "--rate", "2").stdout
    assert "refused out_of_range " in plain and "replayed" not in plain


def test_a_refused_credential_stops_the_run_with_a_clear_error(fsp, province):
    device, _ = province.register(province.institution())
    result = simulate(fsp, "--device", device, "--credential", "s3cr3t-xyz", "--duration", "1", ok=False)
    assert "refused the device's credential (401)" in result.stderr and "s3cr3t-xyz" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (("--kind", "cold_storage", "--scenario", "overheat"), "scenario overheat needs a cremator"),
    (("--kind", "boiler",), "unknown device kind 'boiler'"),
    (("--limit", "emission_max_mg_m3=5"), "a cremator has the limits temperature_max_c=N, cycle_max_minutes=N"),
    (("--via", "pigeon"), "--via must be http or mqtt"),
])
def test_bad_options_are_refused_before_anything_is_sent(fsp, args, message):
    result = simulate(fsp, "--api", CLOSED, "--device", "dev-1", "--credential", "secret-1", *args, ok=False)
    assert message in result.stderr and "is `fsp serve` running?" not in result.stderr


def test_a_device_is_named_or_registered(fsp):
    assert "name the device" in simulate(fsp, "--api", CLOSED, ok=False).stderr
    assert "--institution" in simulate(fsp, "--api", CLOSED, "--register", ok=False).stderr
    assert "credential" in simulate(fsp, "--api", CLOSED, "--device", "dev-1", ok=False).stderr


def test_an_endpoint_that_does_not_answer_says_so(fsp):
    result = simulate(fsp, "--api", CLOSED, "--device", "d", "--credential", "c", "--duration", "1", ok=False)
    assert "is `fsp serve` running?" in result.stderr


def test_over_mqtt_the_readings_reach_the_provinces_ingest_through_the_bridge(fsp, province, broker):
    home = province.institution(type="crematorium")
    seen: list[dict] = []
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="watcher")
    watcher.on_message = lambda _c, _u, message: seen.append({"topic": message.topic, **json.loads(message.payload)})
    subscribed = threading.Event()
    watcher.on_subscribe = lambda *_: subscribed.set()
    watcher.connect("127.0.0.1", broker.port)
    watcher.subscribe("fsp/#", qos=1)
    watcher.loop_start()
    bridge = MqttBridge("beijing", broker.url, HttpForwarder(province.url, "beijing"))
    bridge.start()
    try:
        assert bridge.connected.wait(10) and subscribed.wait(10)
        result = simulate(fsp, "--register", "--institution", home, "--kind", "emission_monitor", "--scenario",
                          "emission", "--via", "mqtt", "--mqtt-url", broker.url, "--duration", "2", "--rate", "3",
                          "--json")
        summary = json.loads(result.stdout)
        deadline = time.monotonic() + 10
        while bridge.counts["forwarded"] < summary["batches"] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        bridge.stop()
        watcher.loop_stop()
        watcher.disconnect()

    device = summary["device"]
    assert summary["published"] == summary["readings"] >= 6 and summary["accepted"] == 0
    assert {m["topic"] for m in seen} == {f"fsp/beijing/devices/{device}/readings"}
    assert {m["credential"] for m in seen} == {summary["credential"]}
    assert bridge.counts == {"forwarded": summary["batches"], "refused": 0, "malformed": 0, "failed": 0}
    series = labels(home, device, "emission_monitor")
    assert province.sample("fsp_equipment_readings_total", kind="emission_monitor") == summary["readings"]
    assert province.sample("fsp_equipment_emission_mg_m3", **series) > province.sample(
        "fsp_equipment_emission_max_mg_m3", **series) == 30.0


def test_mqtt_needs_a_broker(fsp):
    result = simulate(fsp, "--api", CLOSED, "--device", "dev-1", "--credential", "s", "--via", "mqtt", "--mqtt-url",
                      "mqtt://127.0.0.1:9", "--duration", "1", ok=False)
    assert "cannot reach the MQTT broker mqtt://127.0.0.1:9" in result.stderr
