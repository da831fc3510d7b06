"""`fsp devices simulate`: registers a device or acts as one, sends its scenario's readings over HTTP or MQTT, and
sums up what the ingest accepted. The registry side is a stand-in here that keeps to its contract (registration
answers the device and its credential once; ingest answers accepted and refused counts, 401 for a bad credential)."""
import json
import threading
import time
import uuid
from datetime import datetime

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from kc_double.runner import BackgroundServer
from provisioning_cli.mqtt_bridge import HttpForwarder, MqttBridge

METRICS = {"temperature_c", "running", "door_open", "emission_mg_m3", "cycle_start", "cycle_end"}
INSTITUTION = uuid.UUID("8b0c8f5e-1f0a-4f6e-9a57-3b1f2d2c9a10")
TOKEN = "staff-token"


class FakeRegistry:
    """Device registration and ingest, as the contract says; `refuse` makes every batch's first reading refused."""

    def __init__(self, refuse: str | None = None) -> None:
        self.devices: dict[str, str] = {}
        self.registered: list[dict] = []
        self.batches: list[list[dict]] = []
        self.refuse = refuse
        self.app = Starlette(routes=[
            Route("/beijing/api/v1/institutions/{institution}/devices", self.register, methods=["POST"]),
            Route("/beijing/api/v1/devices/{device_id}/readings", self.ingest, methods=["POST"])])

    async def register(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"status": 401}, status_code=401)
        body = await request.json()
        self.registered.append({"institution": request.path_params["institution"], **body})
        device_id, credential = str(uuid.uuid4()), f"cred-{uuid.uuid4().hex}"
        self.devices[device_id] = credential
        return JSONResponse({"device": {"id": device_id, "kind": body["kind"]}, "credential": credential}, status_code=201)

    async def ingest(self, request: Request) -> JSONResponse:
        credential = self.devices.get(request.path_params["device_id"])
        if credential is None or request.headers.get("authorization") != f"Device {credential}":
            return JSONResponse({"status": 401}, status_code=401)
        readings = (await request.json())["readings"]
        self.batches.append(readings)
        refused = 1 if self.refuse else 0
        return JSONResponse({"accepted": len(readings) - refused, "refused": {self.refuse: 1} if refused else {}})


@pytest.fixture
def registry():
    fake = FakeRegistry()
    with BackgroundServer(fake.app) as url:
        fake.api = f"{url}/beijing/api/v1"
        fake.url = url
        yield fake


def simulate(fsp, registry, *args: str, ok: bool = True):
    return fsp("devices", "simulate", "beijing", "--api", registry.api, "--token", TOKEN, *args, ok=ok)


def test_a_registered_cold_storage_runs_normally_over_http_and_every_reading_is_accepted(fsp, registry):
    result = simulate(fsp, registry, "--register", "--institution", str(INSTITUTION), "--kind", "cold_storage",
                      "--limit", "temperature_max_c=6", "--duration", "2", "--rate", "5", "--json")
    summary = json.loads(result.stdout)

    assert registry.registered == [{"institution": str(INSTITUTION), "kind": "cold_storage",
                                    "model": "FSP-SIM-cold_storage", "location": registry.registered[0]["location"],
                                    "limits": {"temperature_max_c": 6.0}}]
    device = next(iter(registry.devices))
    readings = [reading for batch in registry.batches for reading in batch]
    assert summary["device"] == device and summary["credential"] == registry.devices[device]
    assert summary["batches"] == len(registry.batches) >= 10
    assert summary["readings"] == summary["accepted"] == len(readings) and summary["refused"] == {}
    assert [r["seq"] for r in readings] == list(range(1, len(readings) + 1))
    assert {r["metric"] for r in readings} == {"temperature_c", "door_open", "running"}
    assert all(datetime.fromisoformat(r["at"]).utcoffset().total_seconds() == 8 * 3600 for r in readings)
    assert max(r["value"] for r in readings if r["metric"] == "temperature_c") < 6.0
    assert "registered cold_storage" in result.stderr  # progress and notes go to stderr with --json


def test_an_existing_device_overheats_and_the_summary_counts_refusals(fsp, registry):
    registry.refuse = "stale"
    registry.devices["dev-1"] = "secret-1"
    result = simulate(fsp, registry, "--device", "dev-1", "--credential", "secret-1", "--scenario", "overheat",
                      "--limit", "temperature_max_c=1000", "--duration", "2", "--rate", "5")

    temperatures = [r["value"] for batch in registry.batches for r in batch if r["metric"] == "temperature_c"]
    assert temperatures[0] < 1000 < temperatures[-1]  # over the limit from its onset (10 % into the run) on
    assert {r["metric"] for batch in registry.batches for r in batch} <= METRICS
    assert "refused stale " + str(len(registry.batches)) in result.stdout
    # the alert needs longer than this run: the command says how long
    assert "FspEquipmentOverheating fires about" in result.stderr


def test_a_refused_credential_stops_the_run_with_a_clear_error(fsp, registry):
    registry.devices["dev-1"] = "secret-1"
    result = simulate(fsp, registry, "--device", "dev-1", "--credential", "s3cr3t-xyz", "--duration", "1", ok=False)
    assert "refused the device's credential (401)" in result.stderr and "s3cr3t-xyz" not in result.stderr


@pytest.mark.parametrize("args, message", [
    (("--kind", "cold_storage", "--scenario", "overheat"), "scenario overheat needs a cremator"),
    (("--kind", "boiler",), "unknown device kind 'boiler'"),
    (("--limit", "emission_max_mg_m3=5"), "a cremator has the limits temperature_max_c=N, cycle_max_minutes=N"),
    (("--via", "pigeon"), "--via must be http or mqtt"),
])
def test_bad_options_are_refused_before_anything_is_sent(fsp, registry, args, message):
    registry.devices["dev-1"] = "secret-1"
    result = simulate(fsp, registry, "--device", "dev-1", "--credential", "secret-1", *args, ok=False)
    assert message in result.stderr and registry.batches == []


def test_a_device_is_named_or_registered(fsp, registry):
    assert "name the device" in simulate(fsp, registry, ok=False).stderr
    assert "--institution" in simulate(fsp, registry, "--register", ok=False).stderr
    assert "credential" in simulate(fsp, registry, "--device", "dev-1", ok=False).stderr


def test_an_endpoint_that_does_not_answer_says_so(fsp, registry):
    closed = "http://127.0.0.1:9/beijing/api/v1"
    result = fsp("devices", "simulate", "beijing", "--api", closed, "--device", "d", "--credential", "c",
                 "--duration", "1", ok=False)
    assert "is `fsp serve` running?" in result.stderr


def test_over_mqtt_the_readings_reach_the_ingest_through_the_bridge(fsp, registry, broker):
    registry.devices["dev-1"] = "secret-1"
    seen: list[dict] = []
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="watcher")
    watcher.on_message = lambda _c, _u, message: seen.append({"topic": message.topic, **json.loads(message.payload)})
    subscribed = threading.Event()
    watcher.on_subscribe = lambda *_: subscribed.set()
    watcher.connect("127.0.0.1", broker.port)
    watcher.subscribe("fsp/#", qos=1)
    watcher.loop_start()
    bridge = MqttBridge("beijing", broker.url, HttpForwarder(registry.url, "beijing"))
    bridge.start()
    try:
        assert bridge.connected.wait(10) and subscribed.wait(10)
        result = simulate(fsp, registry, "--device", "dev-1", "--credential", "secret-1", "--kind", "emission_monitor",
                          "--via", "mqtt", "--mqtt-url", broker.url, "--duration", "1", "--rate", "4", "--json")
        summary = json.loads(result.stdout)
        deadline = time.monotonic() + 10
        while bridge.counts["forwarded"] < summary["batches"] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        bridge.stop()
        watcher.loop_stop()
        watcher.disconnect()

    assert summary["published"] == summary["readings"] == 5 and summary["accepted"] == 0
    assert {m["topic"] for m in seen} == {"fsp/beijing/devices/dev-1/readings"}
    assert {m["credential"] for m in seen} == {"secret-1"}
    assert bridge.counts["forwarded"] == len(registry.batches) == summary["batches"]
    assert [r["metric"] for batch in registry.batches for r in batch] == ["emission_mg_m3"] * 5


def test_mqtt_needs_a_broker(fsp, registry):
    registry.devices["dev-1"] = "secret-1"
    result = simulate(fsp, registry, "--device", "dev-1", "--credential", "s", "--via", "mqtt", "--mqtt-url",
                      "mqtt://127.0.0.1:9", "--duration", "1", ok=False)
    assert "cannot reach the MQTT broker mqtt://127.0.0.1:9" in result.stderr
