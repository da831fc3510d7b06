"""The tail of every write: audit entry + outbox event in the writer's transaction, and refusals on their own."""
import logging
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from registry import sequences
from registry.audit import service as audit
from registry.outbox import service as outbox

log = logging.getLogger(__name__)


def begin(session: Session) -> sequences.Head:
    """Start a write: take the tenant's write head first, so checks and writes are serialised."""
    return sequences.lock(session)


def written(session: Session, head: sequences.Head, *, actor: str, action: str, object_type: str,
            object_id: Any, event_type: str | None, payload: dict | None, detail: dict | None = None) -> None:
    """Audit the write and queue its event; the caller commits all three together."""
    audit.record(session, actor=actor, action=action, object_type=object_type, object_id=str(object_id),
                 detail=detail, head=head)
    if event_type is not None:
        outbox.append(session, event_type=event_type, aggregate_type=object_type, aggregate_id=str(object_id),
                      payload=payload or {}, head=head)
    head.save(session)


def refused(engine: Engine, *, actor: str, action: str, status: int, problems: list[dict]) -> None:
    """Audit a refused attempt in its own transaction: the refused write itself left nothing behind."""
    try:
        with Session(engine) as session:
            audit.record(session, actor=actor, action=action, object_type="request", object_id=str(status),
                         result=audit.REFUSED, detail={"status": status, "errors": problems})
            session.commit()
    except Exception:  # the refusal answer must still reach the caller; the gap shows in alerts
        log.exception("could not audit a refused request")
