"""Drift on a schedule: `fsp serve --drift-interval` runs the fleet's drift check in the background, and the
ministry's /metrics counts what the last run found (`fsp_drift_items`, `fsp_drift_last_run_timestamp_seconds`)."""
import logging
import random
import threading
from collections.abc import Callable

from provisioning_cli.drift import DriftReport, check_fleet, fleet_tenants, record_report
from provisioning_cli.targets import TargetError
from provisioning_cli.targets.local import LocalTarget

log = logging.getLogger(__name__)


class DriftSchedule:
    """Calls `run` every `interval` seconds ± `jitter` (a fraction of it) on a thread of its own, from `start()`
    until `stop()`; the first run comes after one interval. A run that fails is logged and tried next round."""

    def __init__(self, run: Callable[[], object], *, interval: float, jitter: float = 0.1,
                 rng: Callable[[], float] = random.random) -> None:
        if interval <= 0 or not 0 <= jitter < 1:
            raise ValueError("the drift interval must be positive and its jitter a fraction under 1")
        self._run, self.interval, self.jitter, self._rng = run, interval, jitter, rng
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = self.failures = 0

    def next_delay(self) -> float:
        """The wait before the next run: spread so many control planes never check all at once."""
        return self.interval * (1 + self.jitter * (2 * self._rng() - 1))

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="fsp-drift", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the run in progress, if any (waits up to `timeout` seconds for it)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stopping.wait(self.next_delay()):
            try:
                self._run()
                self.runs += 1
            except Exception:  # the next round tries again; serving must go on
                self.failures += 1
                log.exception("the scheduled drift check failed; it runs again in about %.0f s", self.interval)


def fleet_drift_round(local: LocalTarget) -> Callable[[], DriftReport | None]:
    """One scheduled round: the fleet-wide drift run, recorded for /metrics unless a command changed $FSP_HOME
    meanwhile (half-done changes are not drift); such a round is left out and the next one tells."""
    def run() -> DriftReport | None:
        if _busy(local):
            log.info("a command is changing %s: this drift round is left out", local.home.root)
            return None
        before = _state_stamps(local)
        specs, skipped = fleet_tenants(local)
        report = check_fleet(local, specs, skipped=skipped)
        if _busy(local) or _state_stamps(local) != before:
            log.info("%s changed while drift was checked: this round is left out", local.home.root)
            return None
        if local.is_provisioned(local.catalog.ministry):
            record_report(local, report)
        log.info("drift: %d difference(s) in %d tenant(s)", report.drift_items, len(report.tenants))
        return report

    return run


def _busy(local: LocalTarget) -> bool:
    """Another command holds $FSP_HOME's lock (taken and given back at once if free)."""
    try:
        with local.home.lock():
            return False
    except TargetError:
        return True


def _state_stamps(local: LocalTarget) -> tuple[int | None, ...]:
    """When each tenant's state.json last changed: every `fsp up`, `down` or lifecycle change writes it."""
    stamps: list[int | None] = []
    for spec in local.catalog.tenants:
        try:
            stamps.append(local.home.tenant(spec.slug).state.stat().st_mtime_ns)
        except FileNotFoundError:
            stamps.append(None)
    return tuple(stamps)


def start_drift_schedule(local: LocalTarget, interval: float) -> DriftSchedule:
    """The ministry's scheduled drift check, started."""
    schedule = DriftSchedule(fleet_drift_round(local), interval=interval)
    schedule.start()
    return schedule
