"""The simulator's scenarios: normal running stays inside every limit; each fault crosses its limit and, fed through
the shipped rules (the province's recording rules, then the ministry's alerts) by promtool, fires its alert when
`alert_after` says, not before, and no other."""
import subprocess

import pytest
import yaml

from monitoring.render import RULES_DIR
from provisioning_cli.device_scenarios import (
    ALERTS,
    DEFAULT_LIMITS,
    KINDS,
    SCENARIO_KINDS,
    ScenarioError,
    alert_after,
    check,
    cycle_max_seconds,
    onset,
    ticks,
)

PROMTOOL = "/usr/bin/promtool"
SCRAPE = 15  # seconds between the samples promtool is given, and between rule evaluations
BASE = 600  # the device starts reporting here: a timestamp of 0 means "never" to the rules
# short cycles keep the long-cycle run (and the promtool input) small
LIMITS = {**DEFAULT_LIMITS, "cremator": {"temperature_max_c": 1100.0, "cycle_max_minutes": 10.0}}


def series(kind: str, scenario: str, duration: float, step: float = 5.0) -> dict[str, list[float | None]]:
    """The gauges the registry would export for the device, sampled every SCRAPE seconds from time 0 (a stand-in
    for the registry's exposition: the last value of each metric, when the last reading came, the open cycle)."""
    limits = LIMITS[kind]
    events = list(ticks(kind, scenario, limits, duration=duration, step=step))
    state: dict[str, float] = {}
    samples: dict[str, list[float | None]] = {}
    names = {"cremator": ["temperature_celsius", "temperature_max_celsius", "last_reading_timestamp_seconds",
                          "cycle_started_timestamp_seconds", "cycle_max_seconds"],
             "cold_storage": ["temperature_celsius", "temperature_max_celsius", "last_reading_timestamp_seconds"],
             "emission_monitor": ["emission_mg_m3", "emission_max_mg_m3", "last_reading_timestamp_seconds"]}[kind]
    position = 0
    end = BASE + duration + 900  # long after the run: a silent device stays silent
    for at in range(0, int(end) + 1, SCRAPE):
        while position < len(events) and BASE + events[position].at <= at:
            tick = events[position]
            for reading in tick.readings:
                metric, value = reading["metric"], reading["value"]
                if metric == "temperature_c":
                    state["temperature_celsius"] = value
                elif metric == "emission_mg_m3":
                    state["emission_mg_m3"] = value
                elif metric == "cycle_start":
                    state["cycle_started_timestamp_seconds"] = BASE + tick.at
                elif metric == "cycle_end":
                    state["cycle_started_timestamp_seconds"] = 0
            state["last_reading_timestamp_seconds"] = BASE + tick.at
            position += 1
        if state:
            state.update(temperature_max_celsius=limits.get("temperature_max_c"),
                         emission_max_mg_m3=limits.get("emission_max_mg_m3"),
                         cycle_max_seconds=cycle_max_seconds(limits) if "cycle_max_minutes" in limits else None)
            state.setdefault("cycle_started_timestamp_seconds", 0)
        for name in names:
            samples.setdefault(name, []).append(state.get(name))
    return samples


def run_promtool(tmp_path, kind: str, scenario: str, duration: float, checks: list[tuple[float, list[str]]]) -> None:
    """`checks`: (seconds since the device's start, the equipment alerts firing then)."""
    labels = f'job="registry", instance="a:8000", province="beijing", institution="i-1", device="d-1", kind="{kind}"'
    inputs = [{"series": f"fsp_equipment_{name}{{{labels}}}",
               "values": " ".join("_" if value is None else repr(float(value)) for value in values)}
              for name, values in series(kind, scenario, duration).items()]
    tests = [{"expr": 'count by (alertname, device) (ALERTS{alertstate="firing", alertname=~"FspEquipment.+"})',
              "eval_time": f"{int(BASE + at)}s",
              "exp_samples": [{"labels": f'{{alertname="{name}", device="d-1"}}', "value": 1} for name in firing]}
             for at, firing in checks]
    document = {"rule_files": [str(RULES_DIR / "tenant.rules.yml"), str(RULES_DIR / "fleet.alerts.yml")],
                "evaluation_interval": f"{SCRAPE}s",
                "tests": [{"interval": f"{SCRAPE}s", "input_series": inputs, "promql_expr_test": tests}]}
    path = tmp_path / "scenario.test.yml"
    path.write_text(yaml.safe_dump(document))
    done = subprocess.run([PROMTOOL, "test", "rules", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


FAULTS = [("cremator", "overheat"), ("cold_storage", "cold-chain-break"), ("emission_monitor", "emission"),
          ("cremator", "long-cycle"), ("cremator", "silent"), ("cold_storage", "silent"),
          ("emission_monitor", "silent")]


@pytest.mark.parametrize("kind, scenario", FAULTS)
def test_each_fault_fires_its_alert_when_alert_after_says_and_not_before(tmp_path, kind, scenario):
    duration = 1200.0
    limits = LIMITS[kind]
    fires = alert_after(kind, scenario, limits, duration)
    name, hold = ALERTS[scenario]
    hold = cycle_max_seconds(limits) if scenario == "long-cycle" else hold
    assert fires is not None and fires < duration
    # still silent just before the condition has held for the alert's hold; firing from alert_after on
    before = onset(scenario, duration) + hold - SCRAPE
    run_promtool(tmp_path, kind, scenario, duration, [(before, []), (fires, [name]), (duration, [name])])


@pytest.mark.parametrize("kind", KINDS)
def test_normal_running_never_raises_an_alert(tmp_path, kind):
    duration = 1800.0  # three cremation cycles of 5 minutes each with their pauses
    run_promtool(tmp_path, kind, "normal", duration, [(at, []) for at in (60, 600, 1200, duration)])


@pytest.mark.parametrize("kind", KINDS)
def test_normal_readings_stay_inside_the_limits_and_cycles_end_in_time(kind):
    limits = DEFAULT_LIMITS[kind]
    events = list(ticks(kind, "normal", limits, duration=7200, step=10))
    assert len(events) == 721 and all(event.readings for event in events)
    values = [(r["metric"], r["value"]) for event in events for r in event.readings]
    if "temperature_max_c" in limits:
        assert max(v for m, v in values if m == "temperature_c") <= limits["temperature_max_c"] * 0.9
    if "emission_max_mg_m3" in limits:
        assert max(v for m, v in values if m == "emission_mg_m3") <= limits["emission_max_mg_m3"] * 0.7
    if kind == "cremator":
        starts = {r["cycle"]: event.at for event in events for r in event.readings if r["metric"] == "cycle_start"}
        ends = {r["cycle"]: event.at for event in events for r in event.readings if r["metric"] == "cycle_end"}
        assert len(starts) >= 3 and set(ends) <= set(starts) and len(ends) >= len(starts) - 1
        assert all(ends[cycle] - starts[cycle] < cycle_max_seconds(limits) for cycle in ends)


def test_silent_device_stops_reporting_after_its_onset_and_a_fault_keeps_over_its_limit():
    events = list(ticks("cold_storage", "silent", DEFAULT_LIMITS["cold_storage"], duration=600, step=1))
    assert events[-1].at == onset("silent", 600) == 30
    broken = list(ticks("cold_storage", "cold-chain-break", {"temperature_max_c": 5.0}, duration=600, step=1))
    temperatures = [(event.at, r["value"]) for event in broken for r in event.readings if r["metric"] == "temperature_c"]
    assert all(value > 5.0 for at, value in temperatures if at >= 30 + 31)
    assert all(value < 5.0 for at, value in temperatures if at < 30 + 30)


def test_the_same_seed_gives_the_same_run():
    one = list(ticks("emission_monitor", "normal", DEFAULT_LIMITS["emission_monitor"], duration=60, step=1, seed=7))
    two = list(ticks("emission_monitor", "normal", DEFAULT_LIMITS["emission_monitor"], duration=60, step=1, seed=7))
    assert one == two


@pytest.mark.parametrize("kind, scenario", [(kind, scenario) for scenario, kinds in SCENARIO_KINDS.items()
                                            for kind in KINDS if kind not in kinds])
def test_a_fault_the_device_cannot_have_is_refused(kind, scenario):
    with pytest.raises(ScenarioError, match=f"scenario {scenario} needs"):
        check(kind, scenario)


def test_run_sends_each_tick_on_time_numbered_and_stamped_and_waits_out_a_silent_device():
    from datetime import datetime

    from provisioning_cli.device_simulator import CHINA, run

    clock = {"now": 100.0}
    sent: list[list[dict]] = []

    def send(batch):
        sent.append(batch)
        return {"accepted": len(batch) - 1, "refused": {"stale": 1}}

    def sleep(seconds):
        clock["now"] += seconds

    summary = run(ticks("emission_monitor", "silent", DEFAULT_LIMITS["emission_monitor"], duration=100, step=2), send,
                  duration=100, first_seq=41, clock=lambda: clock["now"], sleep=sleep,
                  now=lambda: datetime(2026, 11, 30, 10, 0, tzinfo=CHINA))

    assert len(sent) == 6  # ticks at 0, 2, ..., 10: silent after its onset (10 s of a 100 s run)
    assert [r["seq"] for batch in sent for r in batch] == list(range(41, 47))
    assert {r["at"] for batch in sent for r in batch} == {"2026-11-30T10:00:00+08:00"}
    assert clock["now"] == 200.0  # the whole duration, though the device fell silent after 10 s
    assert summary.as_dict() == {"batches": 6, "readings": 6, "accepted": 0, "refused": {"stale": 6}, "published": 0}
