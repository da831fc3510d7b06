"""办件查询: anyone holding a query code (registry.query_codes) looks up where their item stands, without signing in.

Each online service gives a resolver `(session, digest) -> PublicStatus | None` (its `status_by_code`); RESOLVERS
lists them and the first that knows the digest answers. An unknown code and a wrong one get the same answer, a
client's misses are limited by `ctx.query_attempts`, and every lookup is counted on /metrics by outcome.
"""
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlmodel import Session

from registry import query_codes
from registry.approvals import service as approvals
from registry.complaints import queries as complaints
from registry.context import TenantContext
from registry.query_codes import PublicStatus
from registry.reservations import service as reservations

# each online service's `status_by_code`: a digest is in at most one of them
RESOLVERS: tuple[Callable[[Session, str], PublicStatus | None], ...] = (
    approvals.status_by_code,
    reservations.status_by_code,
    complaints.status_by_code,
)


class Outcome(StrEnum):
    found = "found"
    not_found = "not_found"  # no item has this code: unknown and mistyped alike
    malformed = "malformed"  # not the shape of a query code at all (it still costs an attempt)
    limited = "limited"      # too many misses from this client


@dataclass(frozen=True)
class Lookup:
    outcome: Outcome
    status: PublicStatus | None = None


def resolve(session: Session, digest: str) -> PublicStatus | None:
    for resolver in RESOLVERS:
        found = resolver(session, digest)
        if found is not None:
            return found
    return None


def look_up(session: Session, *, ctx: TenantContext, client: str, code: str) -> Lookup:
    """The public status of the item with this code, for a public client: limited per client, counted, a trip of
    the limit audited once per window (anyone can send these: one entry each would let anyone grow the trail)."""
    limiter = ctx.query_attempts
    if limiter.blocked(client):
        return _counted(ctx, Lookup(Outcome.limited))
    found = resolve(session, query_codes.digest(code)) if query_codes.well_formed(code) else None
    if found is not None:
        return _counted(ctx, Lookup(Outcome.found, found))
    if limiter.failed(client):
        ctx.journal.refused(actor="anonymous", action="status.lookup", status=429, problems=[
            {"field": "code", "rule": "too_many_attempts",
             "message": f"{limiter.max_failures} query-code lookups without a match from one client"}])
    return _counted(ctx, Lookup(Outcome.not_found if query_codes.well_formed(code) else Outcome.malformed))


def _counted(ctx: TenantContext, lookup: Lookup) -> Lookup:
    ctx.metrics.status_lookups.labels(outcome=lookup.outcome.value).inc()
    return lookup
