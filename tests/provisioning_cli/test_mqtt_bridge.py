"""The MQTT bridge of `fsp serve`, against a real mosquitto: device messages reach the ingest endpoint as ingest
requests; malformed ones are counted and dropped; the bridge survives the broker going away and the ingest being
unreachable. The ingest is a province's own, provisioned and served on loopback (the `province` fixture)."""
import json
import shutil
import time
from types import SimpleNamespace

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import CollectorRegistry

from factories import reading
from mqtt_broker import Mosquitto
from provisioning_cli.mqtt_bridge import HttpForwarder, Malformed, MqttBridge, parse
from provisioning_cli.serve_cmd import loopback
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_serve import Bridges, build_gateway
from registry.config import Settings
from served import serving_locally
from served_province import Province
from tenants import DEFAULT_CATALOG_DIR, load_catalog

CREDENTIAL = "dev-1-credential"
READINGS = [{"seq": 1, "at": "2026-11-30T10:00:00+08:00", "metric": "temperature_c", "value": 850.5},
            {"seq": 2, "at": "2026-11-30T10:00:00+08:00", "metric": "cycle_start", "value": 1, "cycle": "c1"}]


@pytest.fixture
def device(province):
    """A cremator registered with the served province: (its id, its credential, its institution)."""
    home = province.institution(type="crematorium")
    return (*province.register(home), home)


@pytest.fixture
def ingest(province, device):
    """The province's ingest, and the credential of its device: what a device message is forwarded to."""
    province.device_id, province.credential, province.home = device
    return province


@pytest.fixture
def bridge(broker, ingest):
    registry = CollectorRegistry()
    running = MqttBridge("beijing", broker.url, HttpForwarder(ingest.url, "beijing"), registry=registry,
                         retry_base_seconds=0.05, min_delay=1, max_delay=2)
    running.registry = registry
    running.start()
    assert running.connected.wait(10), "the bridge did not connect"
    yield running
    running.stop()


def publish(broker: Mosquitto, topic: str, payload: bytes | str) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"device-{time.monotonic_ns()}")
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    client.publish(topic, payload, qos=1).wait_for_publish(10)
    client.disconnect()
    client.loop_stop()


def message(credential: str, readings: list | None = None) -> str:
    return json.dumps({"credential": credential, "readings": fresh() if readings is None else readings})


def fresh() -> list[dict]:
    """READINGS taken now: the ingest refuses readings older than a day."""
    return [reading(1, "temperature_c", 850.5), reading(2, "cycle_start", 1, cycle="c1")]


def topic(ingest) -> str:
    return f"fsp/beijing/devices/{ingest.device_id}/readings"


def accepted(ingest) -> float:
    return ingest.sample("fsp_equipment_readings_total", kind="cremator")


def wait_for(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_device_message_reaches_the_ingest_endpoint_as_its_body_with_the_credential_as_header(broker, ingest, bridge):
    publish(broker, topic(ingest), message(ingest.credential))
    wait_for(lambda: bridge.counts["forwarded"] == 1)

    latest = {r["metric"]: r for r in ingest.device(ingest.device_id, ingest.home)["latest"]}
    assert latest["temperature_c"]["value"] == 850.5 and latest["cycle_start"]["cycle"] == "c1"
    assert accepted(ingest) == 2
    assert bridge.registry.get_sample_value("fsp_equipment_mqtt_messages_total", {"outcome": "forwarded"}) == 1
    assert bridge.registry.get_sample_value("fsp_equipment_mqtt_connected") == 1


def test_malformed_messages_are_counted_and_dropped_and_the_bridge_goes_on(broker, ingest, bridge):
    publish(broker, topic(ingest), b"\xff not json")
    publish(broker, topic(ingest), json.dumps({"readings": fresh()}))  # no credential
    publish(broker, topic(ingest), message(ingest.credential, readings=[]))
    publish(broker, "fsp/beijing/devices/dev..1/readings", message(ingest.credential))  # not an id: it would go into the URL
    publish(broker, topic(ingest), message(ingest.credential))
    wait_for(lambda: bridge.counts["malformed"] == 4 and bridge.counts["forwarded"] == 1)

    assert accepted(ingest) == 2  # the one well-formed message's readings, nothing of the others
    assert bridge.registry.get_sample_value("fsp_equipment_mqtt_messages_total", {"outcome": "malformed"}) == 4


def test_a_bad_credential_is_refused_by_the_ingest_and_counted(broker, ingest, bridge):
    publish(broker, topic(ingest), message("stolen"))
    wait_for(lambda: bridge.counts["refused"] == 1)

    assert bridge.counts["forwarded"] == 0 and accepted(ingest) == 0
    assert ingest.sample("fsp_equipment_readings_refused_total", reason="unauthorized") == 2  # the batch's readings


def test_another_tenants_devices_are_not_taken(broker, ingest, bridge):
    publish(broker, f"fsp/tianjin/devices/{ingest.device_id}/readings", message(ingest.credential))
    publish(broker, topic(ingest), message(ingest.credential))
    wait_for(lambda: bridge.counts["forwarded"] == 1)

    time.sleep(0.5)  # a message taken from tianjin's topic would be forwarded by now
    assert bridge.counts == {"forwarded": 1, "refused": 0, "malformed": 0, "failed": 0} and accepted(ingest) == 2


def test_the_bridge_reconnects_when_the_broker_comes_back(broker, ingest, bridge):
    broker.stop()
    wait_for(lambda: not bridge.connected.is_set())
    assert bridge.registry.get_sample_value("fsp_equipment_mqtt_connected") == 0
    broker.start()
    assert bridge.connected.wait(15), "the bridge did not reconnect"

    publish(broker, topic(ingest), message(ingest.credential))
    wait_for(lambda: bridge.counts["forwarded"] == 1)
    assert accepted(ingest) == 2


def test_a_broker_down_at_start_is_waited_for(tmp_path, ingest):
    server = Mosquitto(tmp_path)
    late = MqttBridge("beijing", server.url, HttpForwarder(ingest.url, "beijing"), min_delay=1, max_delay=1)
    late.start()  # nothing listens yet: no error, it retries
    try:
        time.sleep(1.5)
        server.start()
        assert late.connected.wait(15)
        publish(server, topic(ingest), message(ingest.credential))
        wait_for(lambda: late.counts["forwarded"] == 1)
    finally:
        late.stop()
        server.stop()
    assert accepted(ingest) == 2


def test_an_unreachable_ingest_fails_the_message_after_retries_and_the_bridge_goes_on(broker, ingest):
    tries = []

    def down(msg):  # a stand-in: the real ingest cannot be made unreachable on demand
        tries.append(msg.device_id)
        raise __import__("httpx").ConnectError("refused")

    flaky = MqttBridge("beijing", broker.url, down, retries=3, retry_base_seconds=0.01)
    flaky.start()
    try:
        assert flaky.connected.wait(10)
        publish(broker, topic(ingest), message(ingest.credential))
        wait_for(lambda: flaky.counts["failed"] == 1)
        assert tries == [ingest.device_id] * 3
        flaky._forward = HttpForwarder(ingest.url, "beijing")  # the ingest is back
        publish(broker, topic(ingest), message(ingest.credential))
        wait_for(lambda: flaky.counts["forwarded"] == 1)
    finally:
        flaky.stop()
    assert accepted(ingest) == 2


@pytest.mark.parametrize("topic, payload, problem", [
    ("fsp/beijing/devices/d/readings", b"[]", "not a JSON object"),
    ("fsp/beijing/devices/d/readings", json.dumps({"credential": "a b", "readings": READINGS}).encode(), "credential"),
    ("fsp/beijing/devices/d/readings", json.dumps({"credential": "x", "readings": READINGS * 251}).encode(), "1 to 500"),
    ("fsp/beijing/devices/d/other", message(CREDENTIAL, READINGS).encode(), "topic"),
])
def test_parse_names_what_is_wrong_without_the_credential(topic, payload, problem):
    with pytest.raises(Malformed, match=problem) as raised:
        parse("beijing", topic, payload)
    assert CREDENTIAL not in str(raised.value)


def fake_app() -> SimpleNamespace:
    return SimpleNamespace(state=SimpleNamespace(ctx=SimpleNamespace(metrics=SimpleNamespace(registry=CollectorRegistry()))))


def test_serve_runs_a_bridge_per_tenant_with_a_broker_and_follows_its_apps(broker, ingest):
    with_broker = Settings(tenant_slug="beijing", mqtt_url=broker.url)
    without = Settings(tenant_slug="tianjin", tenant_code="120000")
    beijing, tianjin = fake_app(), fake_app()
    bridges = Bridges(ingest.url)
    bridges.follow({"beijing": (with_broker, beijing)})
    assert "beijing" not in bridges  # not before the server runs: nothing would answer the bridge yet

    bridges.open({"beijing": (with_broker, beijing), "tianjin": (without, tianjin)})
    try:
        assert "beijing" in bridges and "tianjin" not in bridges
        wait_for(lambda: beijing.state.ctx.metrics.registry.get_sample_value("fsp_equipment_mqtt_connected") == 1)
        publish(broker, topic(ingest), message(ingest.credential))
        wait_for(lambda: beijing.state.ctx.metrics.registry.get_sample_value(
            "fsp_equipment_mqtt_messages_total", {"outcome": "forwarded"}) == 1)
        rebuilt = fake_app()  # `fsp up` changed the tenant's settings: its app, and so its bridge, is replaced
        bridges.follow({"beijing": (with_broker, rebuilt)})
        wait_for(lambda: rebuilt.state.ctx.metrics.registry.get_sample_value("fsp_equipment_mqtt_connected") == 1)
        bridges.follow({})  # taken down
        assert "beijing" not in bridges
    finally:
        bridges.close()


def test_a_bridge_that_cannot_start_leaves_serve_running(caplog):
    bridges = Bridges("http://127.0.0.1:9")  # never reached: the bridge does not start
    bridges.open({"beijing": (Settings(tenant_slug="beijing", mqtt_url="mqtts://[::1"), fake_app())})
    assert "beijing" not in bridges and "could not start" in caplog.text
    bridges.close()


@pytest.mark.parametrize("host, expected", [("0.0.0.0", "127.0.0.1"), ("127.0.0.1", "127.0.0.1"), ("::", "[::1]")])
def test_bridges_post_to_the_server_on_loopback(host, expected):
    assert loopback(host) == expected



def test_fsp_serve_bridges_a_province_whose_catalog_names_a_broker(fsp, home, tmp_path, broker):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    for slug in ("ministry", "beijing", "tianjin"):
        shutil.copy(DEFAULT_CATALOG_DIR / f"{slug}.yaml", catalog)
    with (catalog / "beijing.yaml").open("a", encoding="utf-8") as entry:
        entry.write(f"equipment:\n  mqtt: {broker.url}\n")
    fsp("up", "beijing", "tianjin", "--catalog", str(catalog))
    target = LocalTarget(home, load_catalog(catalog))
    assert target.settings(target.catalog.resolve("beijing")).mqtt_url == broker.url
    # the bridges post where `fsp serve` listens: the same tenants, served on a loopback port
    with serving_locally(home) as url:
        ingest = Province.of(target, url)
        home_id = ingest.institution(type="crematorium")
        ingest.device_id, ingest.credential = ingest.register(home_id)
        gateway, _ = build_gateway(target, bridge_base=url)

        with TestClient(gateway) as client:
            assert "beijing" in gateway.bridges and "tianjin" not in gateway.bridges
            wait_for(lambda: "fsp_equipment_mqtt_connected 1.0" in client.get("/beijing/metrics").text)
            publish(broker, topic(ingest), message(ingest.credential))
            wait_for(lambda: 'fsp_equipment_mqtt_messages_total{outcome="forwarded"} 1.0' in client.get("/beijing/metrics").text)
        assert "beijing" not in gateway.bridges  # stopped with the server
        assert accepted(ingest) == 2
