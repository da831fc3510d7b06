"""Driving a simulated device: its scenario's readings sent in real time, over HTTP to the ingest endpoint or
published to the province's MQTT broker, and a summary of what was accepted (see `fsp devices simulate`)."""
import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import httpx

from provisioning_cli.device_scenarios import Tick
from provisioning_cli.mqtt_bridge import broker_address, topic_filter

CHINA = timezone(timedelta(hours=8), "CST")  # readings carry China time, with its offset


class SimulationError(Exception):
    """The run cannot go on: the endpoint or broker unreachable, the credential refused."""


@dataclass
class Summary:
    batches: int = 0
    readings: int = 0
    accepted: int = 0
    refused: Counter = field(default_factory=Counter)
    published: int = 0  # over MQTT: handed to the broker; the ingest's answer goes to the bridge, not here

    def as_dict(self) -> dict:
        return {"batches": self.batches, "readings": self.readings, "accepted": self.accepted,
                "refused": dict(self.refused), "published": self.published}


# a sender delivers one batch: the ingest's answer ({"accepted": n, "refused": {...}}), or None when published
Send = Callable[[list[dict]], dict | None]


class HttpSender:
    """POST /devices/{id}/readings under the tenant's API root, authenticated as the device."""

    def __init__(self, api: str, device_id: str, credential: str, *, timeout: float = 10.0) -> None:
        self._url = f"{api.rstrip('/')}/devices/{device_id}/readings"
        self._client = httpx.Client(timeout=timeout, headers={"Authorization": f"Device {credential}"})

    def __call__(self, readings: list[dict]) -> dict:
        try:
            answer = self._client.post(self._url, json={"readings": readings})
        except httpx.TransportError as err:
            raise SimulationError(f"cannot reach {self._url} ({type(err).__name__}): is `fsp serve` running?") from None
        if answer.status_code == 401:
            raise SimulationError("the ingest refused the device's credential (401): wrong, or the device was retired")
        if answer.status_code != 200:
            raise SimulationError(f"the ingest answered {answer.status_code}: {answer.text[:300]}")
        return answer.json()

    def close(self) -> None:
        self._client.close()


class MqttSender:
    """Publishes each batch, QoS 1, to fsp/<tenant>/devices/<id>/readings with the credential in the message."""

    def __init__(self, broker_url: str, slug: str, device_id: str, credential: str, *, timeout: float = 10.0) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        host, port, tls = broker_address(broker_url)
        self._topic = topic_filter(slug).replace("+", device_id)
        self._credential, self._timeout = credential, timeout
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fsp-simulator-{device_id}")
        if tls:
            self._client.tls_set()
        try:
            self._client.connect(host, port, keepalive=30)
        except OSError as err:
            raise SimulationError(f"cannot reach the MQTT broker {broker_url}: {err}") from None
        self._client.loop_start()

    def __call__(self, readings: list[dict]) -> None:
        info = self._client.publish(self._topic, json.dumps({"credential": self._credential, "readings": readings}),
                                    qos=1)
        try:
            info.wait_for_publish(self._timeout)
        except (RuntimeError, ValueError) as err:
            raise SimulationError(f"the broker did not take the readings: {err}") from None
        if not info.is_published():
            raise SimulationError(f"the broker did not acknowledge the readings within {self._timeout:g} s")

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def run(ticks: Iterable[Tick], send: Send, *, duration: float, first_seq: int,
        progress: Callable[[float, Summary], None] | None = None, progress_every: float = 10.0,
        clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = lambda: datetime.now(CHINA)) -> Summary:
    """Send each tick's readings when its time comes (seq from `first_seq` up, `at` the moment sent); then wait out
    the rest of `duration` (a silent device sends nothing more, which is the point)."""
    summary, start, seq, reported = Summary(), clock(), first_seq, 0.0
    for tick in ticks:
        wait = start + tick.at - clock()
        if wait > 0:
            sleep(wait)
        if not tick.readings:
            continue
        at = now().isoformat()
        batch = []
        for reading in tick.readings:
            batch.append({"seq": seq, "at": at, **reading})
            seq += 1
        answer = send(batch)
        summary.batches += 1
        summary.readings += len(batch)
        if answer is None:
            summary.published += len(batch)
        else:
            summary.accepted += int(answer.get("accepted", 0))
            # the ingest answers every reason, most of them 0: the summary names only those that happened
            summary.refused.update({str(k): int(v) for k, v in (answer.get("refused") or {}).items() if int(v)})
        if progress is not None and tick.at - reported >= progress_every:
            reported = tick.at
            progress(tick.at, summary)
    rest = start + duration - clock()
    if rest > 0:
        sleep(rest)
    return summary


def first_seq(clock: Callable[[], float] = time.time) -> int:
    """Sequence numbers only grow, across runs for the same device too: they start at the time in milliseconds."""
    return int(clock() * 1000)
