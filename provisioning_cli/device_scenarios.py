"""What a simulated device reports over time, per scenario: normal running and each fault the alerts know.

Pure generation, no I/O: `ticks()` yields, for each moment (seconds since the start), the readings a device of
that kind sends then. Each fault crosses its limit at `onset` and stays over it; `alert_after()` says when the
fleet alert for it fires (its onset plus the alert's hold: the `for` of monitoring/prometheus/rules/fleet.alerts.yml,
or the threshold built into tenant.rules.yml), so a run of at least that long shows the alert.
"""
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

KINDS = ("cremator", "cold_storage", "emission_monitor")
SCENARIOS = ("normal", "overheat", "cold-chain-break", "silent", "emission", "long-cycle")
# which device kind shows each fault; normal and silent suit every kind
SCENARIO_KINDS = {"overheat": ("cremator",), "cold-chain-break": ("cold_storage",), "emission": ("emission_monitor",),
                  "long-cycle": ("cremator",), "normal": KINDS, "silent": KINDS}
# the alert each fault raises, and how long its condition must hold (the alert's `for`, or the recorded threshold)
ALERTS = {"overheat": ("FspEquipmentOverheating", 120), "cold-chain-break": ("FspEquipmentColdChainBreak", 600),
          "silent": ("FspEquipmentSilent", 300), "emission": ("FspEquipmentEmissionOverLimit", 300),
          "long-cycle": ("FspEquipmentCycleTooLong", None)}
# limits a simulated device is registered with when none are given (GB 13801-2015: particulates 30 mg/m³)
DEFAULT_LIMITS = {"cremator": {"temperature_max_c": 1100.0, "cycle_max_minutes": 90.0},
                  "cold_storage": {"temperature_max_c": 5.0},
                  "emission_monitor": {"emission_max_mg_m3": 30.0}}
# a fault's reading crosses its limit this long after its onset (cold storage warms up; the others jump)
CROSS_SECONDS = {"cold-chain-break": 31.0}
# scrape, record, federate: the series reaches the ministry's alert this much after the reading, at most
PIPELINE_SECONDS = 60.0


class ScenarioError(ValueError):
    """A scenario that does not fit the device (a cold storage cannot overheat like a cremator)."""


@dataclass(frozen=True)
class Tick:
    at: float  # seconds since the start
    readings: list[dict] = field(default_factory=list)  # {"metric", "value"[, "cycle"]}, without seq and at


def check(kind: str, scenario: str) -> None:
    if kind not in KINDS:
        raise ScenarioError(f"unknown device kind {kind!r}: one of {', '.join(KINDS)}")
    if scenario not in SCENARIOS:
        raise ScenarioError(f"unknown scenario {scenario!r}: one of {', '.join(SCENARIOS)}")
    if kind not in SCENARIO_KINDS[scenario]:
        raise ScenarioError(f"scenario {scenario} needs a {' or '.join(SCENARIO_KINDS[scenario])}, not a {kind}")


def onset(scenario: str, duration: float) -> float:
    """When the fault begins: early in the run (10 %, at most 30 s), so most of the run shows it."""
    return 0.0 if scenario == "long-cycle" else min(30.0, duration * 0.1)


def alert_after(kind: str, scenario: str, limits: dict, duration: float) -> float | None:
    """Seconds from the start after which the scenario's alert fires (None for normal: it never does)."""
    check(kind, scenario)
    if scenario == "normal":
        return None
    _alert, hold = ALERTS[scenario]
    if scenario == "long-cycle":
        hold = cycle_max_seconds(limits)
    return onset(scenario, duration) + CROSS_SECONDS.get(scenario, 0.0) + hold + PIPELINE_SECONDS


def cycle_max_seconds(limits: dict) -> float:
    return float(limits["cycle_max_minutes"]) * 60


def ticks(kind: str, scenario: str, limits: dict, *, duration: float, step: float, seed: int = 0) -> Iterator[Tick]:
    """The readings of a `duration`-second run, one tick every `step` seconds (the last at or before `duration`)."""
    check(kind, scenario)
    if step <= 0 or duration <= 0:
        raise ScenarioError("duration and step must be positive")
    noise = random.Random(seed)
    start = onset(scenario, duration)
    state = _CremationCycles(limits, duration) if kind == "cremator" else None
    count = int(duration // step) + 1
    for index in range(count):
        now = index * step
        if scenario == "silent" and now > start:
            return  # the device stops reporting: nothing more, however long the run
        wobble = noise.uniform(-1.0, 1.0)
        if kind == "cremator":
            # a cremator about to fall silent is idle: an open cycle would raise its own alert as well
            yield Tick(now, state.readings(now, wobble, overheat=scenario == "overheat" and now >= start,
                                           never_ends=scenario == "long-cycle", idle=scenario == "silent"))
        elif kind == "cold_storage":
            yield Tick(now, _cold_storage(now, wobble, limits, broken_since=start if scenario == "cold-chain-break" else None))
        else:
            yield Tick(now, _emission(now, wobble, limits, over=scenario == "emission" and now >= start))


class _CremationCycles:
    """Cycles back to back: each starts (`cycle_start`), heats, ends within its limit (`cycle_end`), cools briefly.
    A cycle lasts half its limit or a third of the run, whichever is shorter, so a demo shows whole cycles."""

    def __init__(self, limits: dict, duration: float) -> None:
        self.max_c = float(limits["temperature_max_c"])
        self.length = min(cycle_max_seconds(limits) * 0.5, max(duration / 3, 1.0))
        self.pause = self.length * 0.2
        self.current: int | None = None  # the running cycle's number
        self.started = 0.0
        self.number = 0

    def readings(self, now: float, wobble: float, *, overheat: bool, never_ends: bool, idle: bool) -> list[dict]:
        out: list[dict] = []
        if self.current is None and not idle and (now == 0 or now - self.started >= self.length + self.pause):
            self.number += 1
            self.current, self.started = self.number, now
            out += [{"metric": "cycle_start", "value": 1, "cycle": f"c{self.number}"}, {"metric": "door_open", "value": 0}]
        elif self.current is not None and not never_ends and now - self.started >= self.length:
            out.append({"metric": "cycle_end", "value": 1, "cycle": f"c{self.current}"})
            self.current = None
        running = self.current is not None
        if overheat:  # well over the limit, with no reading back under it, whether a cycle runs or not
            temperature = self.max_c * 1.08 + abs(wobble) * 5
        elif running:  # heats towards 85 % of the limit, never over 90 %
            progress = min((now - self.started) / max(self.length, 1.0), 1.0)
            temperature = self.max_c * (0.55 + 0.30 * progress) + wobble * 5
        else:
            temperature = self.max_c * 0.45 + wobble * 5
        return out + [{"metric": "running", "value": 1 if running else 0},
                      {"metric": "temperature_c", "value": round(temperature, 1)}]


def _cold_storage(now: float, wobble: float, limits: dict, *, broken_since: float | None) -> list[dict]:
    """Normally 3 °C under the limit (±0.5); broken: door open, compressor off, 0.1 °C a second warmer until 6 °C
    over the limit, so the limit is crossed 30 s after the break."""
    max_c = float(limits["temperature_max_c"])
    if broken_since is None or now < broken_since:
        return [{"metric": "temperature_c", "value": round(max_c - 3 + wobble * 0.5, 2)},
                {"metric": "door_open", "value": 0}, {"metric": "running", "value": 1}]
    temperature = min(max_c - 3 + (now - broken_since) * 0.1, max_c + 6)
    return [{"metric": "temperature_c", "value": round(temperature, 2)},
            {"metric": "door_open", "value": 1}, {"metric": "running", "value": 0}]


def _emission(now: float, wobble: float, limits: dict, *, over: bool) -> list[dict]:
    """Normally about half the limit (never over 70 %); over: 1.5 times the limit."""
    max_mg = float(limits["emission_max_mg_m3"])
    value = max_mg * 1.5 + abs(wobble) if over else max_mg * (0.5 + 0.2 * wobble)
    return [{"metric": "emission_mg_m3", "value": round(value, 2)}]
