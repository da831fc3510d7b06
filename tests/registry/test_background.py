"""A tenant's background work (registry.background): rounds on a schedule, backoff with jitter while they fail,
a stop that says why, every outcome counted on the tenant's /metrics."""
import random
import threading
import time

import pytest
from prometheus_client import CollectorRegistry

from registry.background import BackgroundMetrics, Periodic, Retry, Stop


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_failed_rounds_back_off_doubling_with_jitter_up_to_the_cap_then_the_schedule_resumes():
    work = Periodic("exchange", lambda: None, interval=1.0, backoff_cap=8.0, rng=random.Random(3))
    waits = []
    for failures in range(1, 7):
        work.failures = failures
        waits.append(work._backoff())

    assert all(0.5 * min(8, 2 ** n) <= wait <= 1.5 * min(8, 2 ** n) for n, wait in zip(range(1, 7), waits))
    assert waits[-1] <= 12 and len(set(waits)) == len(waits)  # capped, and never two tenants in step
    assert Periodic("x", lambda: None, interval=30).backoff_cap == 300  # ten intervals, at most 5 minutes
    assert Periodic("x", lambda: None, interval=600).backoff_cap == 600  # never less than one interval


def test_a_retried_failure_is_counted_and_a_success_resets_it():
    registry, outcomes = CollectorRegistry(), [Retry("unreachable", "no answer"), Retry("unreachable"), None]
    done = threading.Event()

    def job():
        outcome = outcomes.pop(0) if outcomes else None
        if outcome:
            raise outcome
        done.set()

    work = Periodic("exchange", job, interval=0.01, backoff_cap=0.02, metrics=BackgroundMetrics(registry))
    work.start()
    assert done.wait(5)
    work.close(timeout=5)

    assert value(registry, "fsp_background_failures_total", work="exchange", reason="unreachable") == 2
    assert value(registry, "fsp_background_last_success_timestamp_seconds", work="exchange") > time.time() - 60
    assert work.failures == 0 and work.stopped_reason is None and not work.running


def test_a_refusal_stops_the_work_and_says_why():
    registry, rounds = CollectorRegistry(), []

    def job():
        rounds.append(1)
        raise Stop("unauthorized", "the ministry refused beijing's signature")

    work = Periodic("exchange", job, interval=0.01, metrics=BackgroundMetrics(registry), tenant="beijing")
    work.start()
    work._thread.join(5)

    assert not work.running and len(rounds) == 1
    assert work.stopped_reason == "unauthorized: the ministry refused beijing's signature"
    assert value(registry, "fsp_background_stopped", work="exchange") == 1
    assert value(registry, "fsp_background_failures_total", work="exchange", reason="unauthorized") == 1


def test_an_unexpected_error_is_retried_and_close_stops_the_loop():
    calls = []

    def job():
        calls.append(1)
        raise RuntimeError("database hiccup")

    work = Periodic("sweeps", job, interval=0.01, backoff_cap=0.01)
    work.start()
    deadline = time.monotonic() + 5
    while len(calls) < 3:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    work.close(timeout=5)

    assert not work.running and work.stopped_reason is None and work.last_failure == "error"


def test_an_interval_must_be_positive():
    with pytest.raises(ValueError):
        Periodic("exchange", lambda: None, interval=0)
