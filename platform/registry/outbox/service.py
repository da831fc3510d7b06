"""Append events in the writer's transaction; read them in tenant sequence order."""
import json

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from registry import sequences
from registry.db_types import new_id, utcnow
from registry.outbox.models import OutboxEvent, OutboxEventPublic

# built once: the write path runs it on every request (Core, not the ORM unit of work)
INSERT = insert(OutboxEvent.__table__)


def new_event(head: sequences.Head, *, event_type: str, aggregate_type: str, aggregate_id: str,
              payload: dict | str) -> dict:
    """The next event as a row; its number has no gaps because the head is locked. The caller writes both.
    `payload` is a dict, or already its JSON text (a bulk import serialises its payloads in one step)."""
    head.outbox_seq += 1
    return {"seq": head.outbox_seq, "event_id": new_id(), "at": utcnow(), "event_type": event_type,
            "aggregate_type": aggregate_type, "aggregate_id": aggregate_id,
            "payload": payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, default=str),
            "shipped_at": None}


def list_events(session: Session, *, after: int = 0, limit: int = 100) -> list[OutboxEventPublic]:
    """Events after a cursor, the way connectors read them."""
    rows = session.exec(select(OutboxEvent).where(OutboxEvent.seq > after).order_by(col(OutboxEvent.seq)).limit(limit))
    return [OutboxEventPublic(**row.model_dump(exclude={"payload"}), payload=json.loads(row.payload)) for row in rows]


def pending_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(OutboxEvent).where(col(OutboxEvent.shipped_at).is_(None))).one()
