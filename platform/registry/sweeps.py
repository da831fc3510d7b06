"""The sweeps a province runs on a schedule, in process: booking holds that ran out are expired (their places
given back), complaints past their time limit go up to the province, and the province's own statistics catch up
with its outbox.

Each sweep is the same service function its staff endpoint calls (`POST /bookings/expiry-sweeps`,
`POST /complaints/escalations`), written as a system actor, so every item swept is audited and published like
any other write. A `Sweeper` runs them every interval (registry.background: with jitter, one round at a time,
until closed).
"""
import logging
import random
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from registry.background import Periodic
from registry.complaints import service as complaints
from registry.context import TenantContext
from registry.db_types import utcnow
from registry.national import own_figures
from registry.reservations import service as reservations
from registry.security.auth import Principal

log = logging.getLogger(__name__)

# who the booking sweep writes as in the audit trail (the complaint sweep has its own: complaints.SWEEP_ACTOR)
BOOKING_SWEEPER = Principal(subject="system:booking-expiry", roles=frozenset())

SWEEPS: dict[str, Callable[[Session, TenantContext, datetime], int]] = {
    "booking_expiry": lambda session, ctx, now: reservations.sweep(session, ctx=ctx, principal=BOOKING_SWEEPER,
                                                                   now=now),
    "complaint_escalation": lambda session, ctx, now: complaints.escalate_overdue(session, ctx=ctx, now=now),
    # the province's own statistics brought up to its outbox (registry.national.own_figures)
    "own_figures": lambda session, ctx, now: own_figures.catch_up_tenant(session, ctx),
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


class Sweeper(Periodic):
    """One tenant's sweeps every `interval` seconds (± `jitter` of it) in the background (registry.background);
    `run_once` never overlaps a round already running."""

    def __init__(self, ctx: TenantContext, *, interval: float, jitter: float = 0.1,
                 clock: Callable[[], datetime] = utcnow, rng: random.Random | None = None):
        self.ctx = ctx
        super().__init__("sweeps", lambda: run_sweeps(ctx, now=clock()), interval=interval,
                         tenant=ctx.settings.tenant_slug, jitter=jitter, rng=rng,
                         metrics=ctx.metrics.background)
