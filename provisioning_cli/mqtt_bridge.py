"""The MQTT bridge of `fsp serve`: devices of a province that publish their readings to the province's broker reach
its ingest endpoint as if they had posted them.

One bridge per tenant whose settings name a broker (`mqtt_url`, catalog `equipment.mqtt`). It subscribes, QoS 1,
to `fsp/<slug>/devices/+/readings`; a message is the ingest body plus the device's `credential`:
`{"credential": "...", "readings": [...]}`. It forwards each over HTTP to the served endpoint on loopback
(`POST /<slug>/api/v1/devices/<id>/readings`, `Authorization: Device <credential>`), so a reading that came by MQTT
meets the same authentication, limits, refusal audit and metrics as one posted directly, and the bridge depends on
nothing of the registry but its public contract. A malformed message is counted and dropped; the broker going away
is retried with backoff by the client; nothing here raises into `fsp serve`.
"""
import json
import logging
import re
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from prometheus_client import CollectorRegistry, Counter, Gauge

log = logging.getLogger(__name__)

MAX_READINGS = 500  # the ingest endpoint's own limit: a larger batch could never be accepted
MAX_PAYLOAD_BYTES = 256 * 1024
# the topic's device segment goes into a URL path, the credential into a header: neither may carry anything else
_DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_CREDENTIAL = re.compile(r"^[\x21-\x7e]{1,512}$")
OUTCOMES = ("forwarded", "refused", "malformed", "failed")


def topic_filter(slug: str) -> str:
    return f"fsp/{slug}/devices/+/readings"


def broker_address(url: str) -> tuple[str, int, bool]:
    """host, port and whether TLS is used, from mqtt://host[:1883] or mqtts://host[:8883]."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"not an MQTT broker URL (mqtt://host:port or mqtts://host:port): {url!r}")
    tls = parts.scheme == "mqtts"
    return parts.hostname, parts.port or (8883 if tls else 1883), tls


class Malformed(ValueError):
    """A message the bridge drops: it could never be an ingest request."""


@dataclass(frozen=True)
class Message:
    device_id: str
    credential: str
    readings: list


def parse(slug: str, topic: str, payload: bytes) -> Message:
    """The ingest request a message stands for, or Malformed (never the credential in the error)."""
    segments = topic.split("/")
    if len(segments) != 5 or segments[:3] != ["fsp", slug, "devices"] or segments[4] != "readings":
        raise Malformed("topic is not fsp/<tenant>/devices/<device>/readings")
    if not _DEVICE_ID.match(segments[3]):
        raise Malformed("device id in the topic is not an id")
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise Malformed(f"payload over {MAX_PAYLOAD_BYTES} bytes")
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Malformed("payload is not JSON") from None
    if not isinstance(body, dict):
        raise Malformed("payload is not a JSON object")
    credential, readings = body.get("credential"), body.get("readings")
    if not isinstance(credential, str) or not _CREDENTIAL.match(credential):
        raise Malformed("credential missing or not a token")
    if not isinstance(readings, list) or not 1 <= len(readings) <= MAX_READINGS:
        raise Malformed(f"readings must be a list of 1 to {MAX_READINGS}")
    return Message(segments[3], credential, readings)


# a forwarder answers the HTTP status of the ingest (or raises httpx.TransportError when it cannot be reached)
Forward = Callable[[Message], int]


class HttpForwarder:
    """Posts a message to the tenant's ingest endpoint under `base` (http://127.0.0.1:<port>)."""

    def __init__(self, base: str, slug: str, *, timeout: float = 10.0) -> None:
        self._api = f"{base.rstrip('/')}/{slug}/api/v1"
        self._client = httpx.Client(timeout=timeout)

    def __call__(self, message: Message) -> int:
        answer = self._client.post(f"{self._api}/devices/{message.device_id}/readings",
                                   json={"readings": message.readings},
                                   headers={"Authorization": f"Device {message.credential}"})
        return answer.status_code

    def close(self) -> None:
        self._client.close()


class MqttBridge:
    """Subscribes to one tenant's device topics on its broker and forwards each message (see the module)."""

    def __init__(self, slug: str, broker_url: str, forward: Forward, *, registry: CollectorRegistry | None = None,
                 retries: int = 3, retry_base_seconds: float = 0.5, min_delay: int = 1, max_delay: int = 60) -> None:
        self.slug, self._forward = slug, forward
        self._host, self._port, tls = broker_address(broker_url)
        self._retries, self._retry_base = retries, retry_base_seconds
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self.connected = threading.Event()
        registry = registry if registry is not None else CollectorRegistry()  # never the process-wide default
        self._messages = Counter("fsp_equipment_mqtt_messages_total",
                                 "Device messages taken from the MQTT broker, by outcome (forwarded: the ingest answered "
                                 "200; refused: it answered 4xx; malformed: dropped unread; failed: ingest unreachable)",
                                 ["outcome"], registry=registry)
        self._up = Gauge("fsp_equipment_mqtt_connected", "1 while the MQTT bridge is connected to the broker",
                         registry=registry)
        # a persistent session (fixed client id, clean_session False): QoS 1 messages published while the bridge
        # was away are kept by the broker and delivered when it is back
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fsp-bridge-{slug}", clean_session=False,
                                   protocol=mqtt.MQTTv311)
        if tls:
            self._client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
        self._client.reconnect_delay_set(min_delay=min_delay, max_delay=max_delay)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe

    def start(self) -> None:
        """Connect in the background: a broker that is down now is retried, with backoff, until it answers."""
        self._client.connect_async(self._host, self._port, keepalive=30)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self.connected.clear()

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        if reason_code.is_failure:
            log.warning("mqtt bridge %s: broker %s:%s refused the connection (%s)", self.slug, self._host, self._port,
                        reason_code)
            return
        client.subscribe(topic_filter(self.slug), qos=1)

    def _on_subscribe(self, _client, _userdata, _mid, _reason_codes, _properties) -> None:
        # connected means the broker has the subscription (SUBACK): a message sent from then on is not lost
        self._up.set(1)
        self.connected.set()
        log.info("mqtt bridge %s: connected to %s:%s, subscribed to %s", self.slug, self._host, self._port,
                 topic_filter(self.slug))

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self._up.set(0)
        self.connected.clear()
        if reason_code != 0:
            log.warning("mqtt bridge %s: disconnected from %s:%s (%s); reconnecting with backoff", self.slug,
                        self._host, self._port, reason_code)

    def _on_message(self, _client, _userdata, message) -> None:
        # paho acknowledges a QoS 1 message when this returns; an exception here would stop its network thread
        try:
            outcome = self.handle(message.topic, message.payload)
        except Exception:
            log.exception("mqtt bridge %s: unexpected error on a message; dropped", self.slug)
            outcome = "failed"
        self._count(outcome)

    def handle(self, topic: str, payload: bytes) -> str:
        """One message's outcome: parse, forward (retrying while the ingest cannot be reached or answers 5xx)."""
        try:
            message = parse(self.slug, topic, payload)
        except Malformed as err:
            log.warning("mqtt bridge %s: malformed message on %s dropped: %s", self.slug, topic, err)
            return "malformed"
        for attempt in range(self._retries):
            try:
                status = self._forward(message)
            except httpx.TransportError as err:
                status, problem = None, type(err).__name__
            else:
                if status == 200:
                    return "forwarded"
                if 400 <= status < 500 and status != 429:
                    log.warning("mqtt bridge %s: ingest refused device %s's message (%s)", self.slug,
                                message.device_id, status)
                    return "refused"
                problem = f"HTTP {status}"
            if attempt + 1 < self._retries:
                time.sleep(self._retry_base * 2 ** attempt)
        log.error("mqtt bridge %s: device %s's message not delivered after %d tries (%s); dropped", self.slug,
                  message.device_id, self._retries, problem)
        return "failed"

    def _count(self, outcome: str) -> None:
        self.counts[outcome] += 1
        self._messages.labels(outcome).inc()
