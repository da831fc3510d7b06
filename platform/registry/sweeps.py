"""The sweeps a province runs on a schedule, in process: booking holds that ran out are expired (their places
given back) and complaints past their time limit go up to the province.

Each sweep is the same service function its staff endpoint calls (`POST /bookings/expiry-sweeps`,
`POST /complaints/escalations`), written as a system actor, so every item swept is audited and published like
any other write. A `Sweeper` runs them every interval (with jitter, so the tenants of one server do not all sweep
at the same moment), one round at a time, until closed.
"""
import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from registry.complaints import service as complaints
from registry.context import TenantContext
from registry.db_types import utcnow
from registry.reservations import service as reservations
from registry.security.auth import Principal

log = logging.getLogger(__name__)

# who the booking sweep writes as in the audit trail (the complaint sweep has its own: complaints.SWEEP_ACTOR)
BOOKING_SWEEPER = Principal(subject="system:booking-expiry", roles=frozenset())

SWEEPS: dict[str, Callable[[Session, TenantContext, datetime], int]] = {
    "booking_expiry": lambda session, ctx, now: reservations.sweep(session, ctx=ctx, principal=BOOKING_SWEEPER,
                                                                   now=now),
    "complaint_escalation": lambda session, ctx, now: complaints.escalate_overdue(session, ctx=ctx, now=now),
}


def run_sweeps(ctx: TenantContext, *, now: datetime | None = None) -> dict[str, int]:
    """Every sweep once, each in its own transaction: one failing leaves the others to run (and is tried again
    next round). Returns how many items each swept (a failed one is missing)."""
    now = now or utcnow()
    swept: dict[str, int] = {}
    for name, sweep in SWEEPS.items():
        try:
            with Session(ctx.engine) as session:
                swept[name] = sweep(session, ctx, now)
        except Exception:
            log.exception("%s: the %s sweep failed", ctx.settings.tenant_slug, name)
            ctx.metrics.sweep_failures.labels(sweep=name).inc()
            continue
        ctx.metrics.swept.labels(sweep=name).inc(swept[name])
        ctx.metrics.sweep_last.labels(sweep=name).set_to_current_time()
    return swept


class Sweeper:
    """One tenant's sweeps every `interval` seconds (± `jitter` of it) in a background thread; the first round
    comes at a random moment of the first interval. `run_once` never overlaps a round already running."""

    def __init__(self, ctx: TenantContext, *, interval: float, jitter: float = 0.1,
                 clock: Callable[[], datetime] = utcnow, rng: random.Random | None = None):
        if interval <= 0:
            raise ValueError("the sweep interval must be positive")
        self.ctx, self.interval, self.jitter, self._clock = ctx, interval, jitter, clock
        self._rng = rng or random.Random()
        self._round = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sweeps-{ctx.settings.tenant_slug}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self, timeout: float = 30.0) -> None:
        """Stop: a round under way finishes its current sweep's transaction, no new one starts."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def run_once(self) -> dict[str, int] | None:
        """One round, unless one is running (then None: the sweeps are idempotent, the next round catches up)."""
        if not self._round.acquire(blocking=False):
            return None
        try:
            return run_sweeps(self.ctx, now=self._clock())
        finally:
            self._round.release()

    def _delays(self):
        yield self._rng.uniform(0, self.interval)
        while True:
            yield self.interval * (1 + self._rng.uniform(-self.jitter, self.jitter))

    def _run(self) -> None:
        for delay in self._delays():
            if self._stop.wait(delay):
                return
            try:
                self.run_once()
            except Exception:  # the loop outlives any round (run_sweeps already logs each sweep's failure)
                log.exception("%s: sweep round failed", self.ctx.settings.tenant_slug)
