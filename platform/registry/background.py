"""Background work of one tenant, one mechanism for every kind (scheduled sweeps, exchange shipping, department
sharing): a job run every interval in its own thread, with jitter so the tenants of one server do not all run at
the same moment, backoff with jitter after a failure, and a clean stop.

A job signals how a round went by what it raises: nothing (done), `Retry(reason)` (try again after a backoff that
doubles up to a cap: the other side may be back later), `Stop(reason, message)` (an operator must act: the loop
ends and keeps why). Any other exception is logged and retried like `Retry("error")`. Each round's outcome is
counted on the tenant's /metrics by work and reason (`BackgroundMetrics`).
"""
import logging
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge

log = logging.getLogger(__name__)

BACKOFF_CAP_SECONDS = 300.0


class Retry(Exception):
    """The round failed in a way a later round may not: `reason` is the failure's metric label."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason


class Stop(Exception):
    """The round failed in a way only an operator can mend: the work stops and says why."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason


class BackgroundMetrics:
    """Per work (sweeps, exchange, sharing-<department>): when it last succeeded, its failures by reason, and
    whether it stopped for an operator."""

    def __init__(self, registry: CollectorRegistry):
        self.last_success = Gauge("fsp_background_last_success_timestamp_seconds",
                                  "Unix time the background work last completed a round", ["work"], registry=registry)
        self.failures = Counter("fsp_background_failures_total",
                                "Background rounds that failed, by work and reason (unreachable: the other side did "
                                "not answer; others: it refused)", ["work", "reason"], registry=registry)
        self.stopped = Gauge("fsp_background_stopped", "1 when the work stopped on a refusal an operator must mend",
                             ["work"], registry=registry)


class Periodic:
    """`job()` every `interval` seconds (± `jitter` of it) in a daemon thread; the first round comes at a random
    moment of the first interval. After n failed rounds in a row the next comes after interval·2ⁿ (± half of it),
    at most `backoff_cap` (default: ten intervals, at most 5 minutes, never less than one interval)."""

    def __init__(self, work: str, job: Callable[[], Any], *, interval: float, tenant: str = "", jitter: float = 0.1,
                 backoff_cap: float | None = None, metrics: BackgroundMetrics | None = None,
                 rng: random.Random | None = None):
        if interval <= 0:
            raise ValueError(f"the {work} interval must be positive")
        self.work, self.tenant, self.interval, self.jitter = work, tenant, interval, jitter
        self.backoff_cap = backoff_cap or max(interval, min(10 * interval, BACKOFF_CAP_SECONDS))
        self._job, self._metrics = job, metrics
        self._rng = rng or random.Random()
        self._round = threading.Lock()
        self._stop = threading.Event()
        self.failures = 0  # failed rounds in a row
        self.last_failure: str | None = None
        self.stopped_reason: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"{work}-{tenant}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 30.0) -> None:
        """Stop: a round under way finishes, no new one starts."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def stopping(self) -> threading.Event:
        """Set once the work is asked to stop: a long round can wait on it instead of sleeping."""
        return self._stop

    def run_once(self) -> Any:
        """One round, unless one is running (then None: the next round catches up); raises what the job raised."""
        return self._guarded()

    def _guarded(self) -> Any:
        if not self._round.acquire(blocking=False):
            return None
        try:
            return self._job()
        finally:
            self._round.release()

    def _delays(self) -> Iterator[float]:
        """The waits between rounds while every round succeeds."""
        yield self._rng.uniform(0, self.interval)
        while True:
            yield self.interval * (1 + self._rng.uniform(-self.jitter, self.jitter))

    def _backoff(self) -> float:
        return min(self.backoff_cap, self.interval * 2 ** self.failures) * self._rng.uniform(0.5, 1.5)

    def _run(self) -> None:
        delays = self._delays()
        delay = next(delays)
        while not self._stop.wait(delay):
            if self._round_ok():
                self.failures, delay = 0, next(delays)
            elif self.stopped_reason is not None:
                return
            else:
                self.failures += 1
                delay = self._backoff()

    def _round_ok(self) -> bool:
        """Run a round and count its outcome; False when it failed (or stopped the work)."""
        try:
            self._guarded()
        except Stop as stop:
            self.stopped_reason = f"{stop.reason}: {stop}"
            self._stop.set()  # for good: a wait on `stopping` ends too
            self._count(stop.reason, stopped=True)
            log.error("%s: %s stopped, an operator must act (%s): %s", self.tenant, self.work, stop.reason, stop)
            return False
        except Retry as retry:
            self._count(retry.reason)
            log.warning("%s: %s failed (%s), trying again with backoff: %s", self.tenant, self.work, retry.reason,
                        retry)
            return False
        except Exception:  # the loop outlives any round: a database hiccup is tried again
            self._count("error")
            log.exception("%s: %s round failed", self.tenant, self.work)
            return False
        self.last_failure = None
        if self._metrics:
            self._metrics.last_success.labels(work=self.work).set_to_current_time()
        return True

    def _count(self, reason: str, *, stopped: bool = False) -> None:
        self.last_failure = reason
        if self._metrics:
            self._metrics.failures.labels(work=self.work, reason=reason).inc()
            if stopped:
                self._metrics.stopped.labels(work=self.work).set(1)
