"""The MQTT bridge of `fsp serve`, against a real mosquitto: device messages reach the ingest endpoint as ingest
requests; malformed ones are counted and dropped; the bridge survives the broker going away and the ingest being
unreachable. The ingest endpoint here is a stand-in that keeps to the registry's contract."""
import json
import shutil
import time
from types import SimpleNamespace

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kc_double.runner import BackgroundServer
from mqtt_broker import Mosquitto
from provisioning_cli.mqtt_bridge import HttpForwarder, Malformed, MqttBridge, parse
from provisioning_cli.serve_cmd import loopback
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_serve import Bridges, build_gateway
from registry.config import Settings
from tenants import DEFAULT_CATALOG_DIR, load_catalog

CREDENTIAL = "dev-1-credential"
READINGS = [{"seq": 1, "at": "2026-11-30T10:00:00+08:00", "metric": "temperature_c", "value": 850.5},
            {"seq": 2, "at": "2026-11-30T10:00:00+08:00", "metric": "cycle_start", "value": 1, "cycle": "c1"}]


class FakeIngest:
    """POST /<slug>/api/v1/devices/{id}/readings as the contract says: 200 with counts, 401 for a bad credential."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.app = Starlette(routes=[Route("/{slug}/api/v1/devices/{device_id}/readings", self.ingest, methods=["POST"])])

    async def ingest(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.calls.append({"path": request.url.path, "authorization": request.headers.get("authorization"), "body": body})
        if request.headers.get("authorization") != f"Device {CREDENTIAL}":
            return JSONResponse({"status": 401, "title": "Unauthorized", "errors": []}, status_code=401)
        return JSONResponse({"accepted": len(body["readings"]), "refused": {}})


@pytest.fixture
def ingest():
    fake = FakeIngest()
    with BackgroundServer(fake.app) as url:
        fake.url = url
        yield fake


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


def message(credential: str = CREDENTIAL, readings: list = READINGS) -> str:
    return json.dumps({"credential": credential, "readings": readings})


def wait_for(condition, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_device_message_reaches_the_ingest_endpoint_as_its_body_with_the_credential_as_header(broker, ingest, bridge):
    publish(broker, "fsp/beijing/devices/dev-1/readings", message())
    wait_for(lambda: bridge.counts["forwarded"] == 1)

    assert ingest.calls == [{"path": "/beijing/api/v1/devices/dev-1/readings",
                             "authorization": f"Device {CREDENTIAL}", "body": {"readings": READINGS}}]
    assert bridge.registry.get_sample_value("fsp_equipment_mqtt_messages_total", {"outcome": "forwarded"}) == 1
    assert bridge.registry.get_sample_value("fsp_equipment_mqtt_connected") == 1


def test_malformed_messages_are_counted_and_dropped_and_the_bridge_goes_on(broker, ingest, bridge):
    topic = "fsp/beijing/devices/dev-1/readings"
    publish(broker, topic, b"\xff not json")
    publish(broker, topic, json.dumps({"readings": READINGS}))  # no credential
    publish(broker, topic, message(readings=[]))
    publish(broker, "fsp/beijing/devices/dev..1/readings", message())  # not an id: it would go into the URL
    publish(broker, topic, message())
    wait_for(lambda: bridge.counts["malformed"] == 4 and bridge.counts["forwarded"] == 1)

    assert len(ingest.calls) == 1
    assert bridge.registry.get_sample_value("fsp_equipment_mqtt_messages_total", {"outcome": "malformed"}) == 4


def test_a_bad_credential_is_refused_by_the_ingest_and_counted(broker, ingest, bridge):
    publish(broker, "fsp/beijing/devices/dev-1/readings", message(credential="stolen"))
    wait_for(lambda: bridge.counts["refused"] == 1)

    assert ingest.calls[0]["authorization"] == "Device stolen" and bridge.counts["forwarded"] == 0


def test_another_tenants_devices_are_not_taken(broker, ingest, bridge):
    publish(broker, "fsp/tianjin/devices/dev-1/readings", message())
    publish(broker, "fsp/beijing/devices/dev-1/readings", message())
    wait_for(lambda: bridge.counts["forwarded"] == 1)

    assert [call["path"] for call in ingest.calls] == ["/beijing/api/v1/devices/dev-1/readings"]


def test_the_bridge_reconnects_when_the_broker_comes_back(broker, ingest, bridge):
    broker.stop()
    wait_for(lambda: not bridge.connected.is_set())
    assert bridge.registry.get_sample_value("fsp_equipment_mqtt_connected") == 0
    broker.start()
    assert bridge.connected.wait(15), "the bridge did not reconnect"

    publish(broker, "fsp/beijing/devices/dev-1/readings", message())
    wait_for(lambda: bridge.counts["forwarded"] == 1)


def test_a_broker_down_at_start_is_waited_for(tmp_path, ingest):
    server = Mosquitto(tmp_path)
    late = MqttBridge("beijing", server.url, HttpForwarder(ingest.url, "beijing"), min_delay=1, max_delay=1)
    late.start()  # nothing listens yet: no error, it retries
    try:
        time.sleep(1.5)
        server.start()
        assert late.connected.wait(15)
        publish(server, "fsp/beijing/devices/dev-1/readings", message())
        wait_for(lambda: late.counts["forwarded"] == 1)
    finally:
        late.stop()
        server.stop()


def test_an_unreachable_ingest_fails_the_message_after_retries_and_the_bridge_goes_on(broker, ingest):
    tries = []

    def down(msg):
        tries.append(msg.device_id)
        raise __import__("httpx").ConnectError("refused")

    flaky = MqttBridge("beijing", broker.url, down, retries=3, retry_base_seconds=0.01)
    flaky.start()
    try:
        assert flaky.connected.wait(10)
        publish(broker, "fsp/beijing/devices/dev-1/readings", message())
        wait_for(lambda: flaky.counts["failed"] == 1)
        assert tries == ["dev-1"] * 3
        flaky._forward = HttpForwarder(ingest.url, "beijing")  # the ingest is back
        publish(broker, "fsp/beijing/devices/dev-1/readings", message())
        wait_for(lambda: flaky.counts["forwarded"] == 1)
    finally:
        flaky.stop()


@pytest.mark.parametrize("topic, payload, problem", [
    ("fsp/beijing/devices/d/readings", b"[]", "not a JSON object"),
    ("fsp/beijing/devices/d/readings", json.dumps({"credential": "a b", "readings": READINGS}).encode(), "credential"),
    ("fsp/beijing/devices/d/readings", json.dumps({"credential": "x", "readings": READINGS * 251}).encode(), "1 to 500"),
    ("fsp/beijing/devices/d/other", message().encode(), "topic"),
])
def test_parse_names_what_is_wrong_without_the_credential(topic, payload, problem):
    with pytest.raises(Malformed, match=problem) as raised:
        parse("beijing", topic, payload)
    assert CREDENTIAL not in str(raised.value)


def fake_app() -> SimpleNamespace:
    return SimpleNamespace(state=SimpleNamespace(ctx=SimpleNamespace(metrics=SimpleNamespace(registry=CollectorRegistry()))))


def test_serve_runs_a_bridge_per_tenant_with_a_broker_and_follows_its_apps(broker, ingest, tmp_path):
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
        publish(broker, "fsp/beijing/devices/dev-1/readings", message())
        wait_for(lambda: beijing.state.ctx.metrics.registry.get_sample_value(
            "fsp_equipment_mqtt_messages_total", {"outcome": "forwarded"}) == 1)
        rebuilt = fake_app()  # `fsp up` changed the tenant's settings: its app, and so its bridge, is replaced
        bridges.follow({"beijing": (with_broker, rebuilt)})
        wait_for(lambda: rebuilt.state.ctx.metrics.registry.get_sample_value("fsp_equipment_mqtt_connected") == 1)
        bridges.follow({})  # taken down
        assert "beijing" not in bridges
    finally:
        bridges.close()


def test_a_bridge_that_cannot_start_leaves_serve_running(ingest, caplog):
    bridges = Bridges(ingest.url)
    bridges.open({"beijing": (Settings(tenant_slug="beijing", mqtt_url="mqtts://[::1"), fake_app())})
    assert "beijing" not in bridges and "could not start" in caplog.text
    bridges.close()


@pytest.mark.parametrize("host, expected", [("0.0.0.0", "127.0.0.1"), ("127.0.0.1", "127.0.0.1"), ("::", "[::1]")])
def test_bridges_post_to_the_server_on_loopback(host, expected):
    assert loopback(host) == expected



def test_fsp_serve_bridges_a_province_whose_catalog_names_a_broker(fsp, home, tmp_path, broker, ingest):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    for slug in ("ministry", "beijing", "tianjin"):
        shutil.copy(DEFAULT_CATALOG_DIR / f"{slug}.yaml", catalog)
    with (catalog / "beijing.yaml").open("a", encoding="utf-8") as entry:
        entry.write(f"equipment:\n  mqtt: {broker.url}\n")
    fsp("up", "beijing", "tianjin", "--catalog", str(catalog))
    target = LocalTarget(home, load_catalog(catalog))
    assert target.settings(target.catalog.resolve("beijing")).mqtt_url == broker.url
    # the bridges post where `fsp serve` listens; here the stand-in ingest takes that place
    gateway, _ = build_gateway(target, bridge_base=ingest.url)

    with TestClient(gateway) as client:
        assert "beijing" in gateway.bridges and "tianjin" not in gateway.bridges
        wait_for(lambda: "fsp_equipment_mqtt_connected 1.0" in client.get("/beijing/metrics").text)
        publish(broker, "fsp/beijing/devices/dev-1/readings", message())
        wait_for(lambda: 'fsp_equipment_mqtt_messages_total{outcome="forwarded"} 1.0' in client.get("/beijing/metrics").text)
    assert "beijing" not in gateway.bridges  # stopped with the server
    assert [call["path"] for call in ingest.calls] == ["/beijing/api/v1/devices/dev-1/readings"]
