"""Province side: turn unshipped outbox events into signed batches, and mark what the ministry acknowledged."""
import json

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from registry.db_types import china_isoformat, utcnow
from registry.exchange.signing import canonical
from registry.outbox.models import OutboxEvent


class EventTooLarge(Exception):
    """One event alone does not fit in a batch under the byte limit."""


def unshipped(engine: Engine, *, limit: int) -> list[OutboxEvent]:
    """The oldest events not yet marked shipped, in seq order (they always follow the shipped ones)."""
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(OutboxEvent).where(col(OutboxEvent.shipped_at).is_(None))
                                 .order_by(col(OutboxEvent.seq)).limit(limit)))


def from_seq(engine: Engine, *, start: int, limit: int) -> list[OutboxEvent]:
    """Events from `start` on in seq order, shipped or not: for resending what the ministry lost."""
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(OutboxEvent).where(col(OutboxEvent.seq) >= start)
                                 .order_by(col(OutboxEvent.seq)).limit(limit)))


def batch_body(events: list[OutboxEvent], *, province: str, province_code: str, max_bytes: int,
               incarnation: str | None = None) -> tuple[bytes, int]:
    """The canonical body of the longest prefix of `events` that stays under `max_bytes`; (body, events taken).
    `incarnation` (the database's, registry.tenant_status) lets the ministry tell a re-provisioned province apart."""
    wire = [_on_wire(event) for event in events]
    taken = len(wire)
    envelope = {"province": province, "province_code": province_code}
    if incarnation:
        envelope["incarnation"] = incarnation
    while True:
        body = canonical({**envelope, "first_seq": wire[0]["seq"], "last_seq": wire[taken - 1]["seq"],
                          "events": wire[:taken]})
        if len(body) <= max_bytes:
            return body, taken
        if taken == 1:
            raise EventTooLarge(f"outbox event {wire[0]['seq']} alone is {len(body)} bytes, over {max_bytes}")
        # shrink in proportion, so a large batch needs few re-encodings
        taken = max(1, min(taken - 1, taken * max_bytes // len(body)))


def _on_wire(event: OutboxEvent) -> dict:
    return {"seq": event.seq, "event_id": str(event.event_id), "at": china_isoformat(event.at),
            "event_type": event.event_type, "aggregate_type": event.aggregate_type,
            "aggregate_id": event.aggregate_id, "payload": json.loads(event.payload)}


# the oldest event still to ship: one step into the index of the unshipped (migration 0037)
_FIRST_UNSHIPPED = select(func.min(OutboxEvent.seq)).where(col(OutboxEvent.shipped_at).is_(None))


def mark_shipped(engine: Engine, *, through: int) -> int:
    """Mark every unshipped event up to `through` as shipped; how many were marked."""
    events = OutboxEvent.__table__.c
    with Session(engine) as session:
        connection = session.connection()
        first = connection.execute(_FIRST_UNSHIPPED).scalar()
        if first is None or first > through:
            return 0
        # bounded on both sides: the planner then sees a batch of rows, not "every unshipped event up to here",
        # which statistics taken before the shipping began price as a table scan
        result = connection.execute(update(OutboxEvent.__table__).where(
            events.seq.between(first, through), events.shipped_at.is_(None)).values(shipped_at=utcnow()))
        session.commit()
        return result.rowcount


def outbox_position(engine: Engine) -> dict[str, int]:
    """head (last seq written), shipped (last seq marked shipped) and pending (events not shipped)."""
    with Session(engine) as session:
        head = session.exec(select(func.coalesce(func.max(OutboxEvent.seq), 0))).one()
        # the unshipped always follow the shipped: the last shipped is the last event before the first unshipped
        # (found by the index of the unshipped, not by walking every event shipped before)
        first_unshipped = session.connection().execute(_FIRST_UNSHIPPED).scalar()
        shipped = head if first_unshipped is None else session.exec(
            select(func.coalesce(func.max(OutboxEvent.seq), 0)).where(OutboxEvent.seq < first_unshipped)).one()
        pending = session.exec(select(func.count()).select_from(OutboxEvent)
                               .where(col(OutboxEvent.shipped_at).is_(None))).one()
    return {"head": head, "shipped": shipped, "pending": pending}
