"""Ministry side: store a verified batch once, behind the province's cursor, with its audit entry."""
import uuid

from pydantic_core import to_json
from sqlalchemy import insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from registry.db_types import utcnow
from registry.errors import Conflict
from registry.exchange.models import Batch, BatchEvent, CursorPublic, ExchangeCursor, NationalEvent
from registry.journal import Journal
from registry.national import loaded
from registry.national import projection as national

RECEIVE_ACTION = "POST /api/v1/exchange/batches"
_INSERT = insert(NationalEvent.__table__)


def receive_batch(session: Session, batch: Batch, *, journal: Journal) -> tuple[int, int]:
    """Store the events after the province's cursor and advance it; (acknowledged_through, newly stored).

    A batch that starts past cursor+1 would leave a gap: 409 naming the expected seq. Events at or below the
    cursor were stored before (a resend): they must carry the same event_id, and are not stored again.
    """
    # the write head serialises receivers (also across hub replicas) before the cursor is read
    with journal.write(session, actor=f"exchange:{batch.province}") as unit:
        through, fresh = _store(session, batch, now=utcnow())
        unit.record(action=RECEIVE_ACTION, object_type="exchange_batch",
                    object_id=f"{batch.province}:{batch.first_seq}-{batch.last_seq}",
                    detail={"province": batch.province, "first_seq": batch.first_seq, "last_seq": batch.last_seq,
                            "stored": fresh, "acknowledged_through": through})
    return through, fresh


def _store(session: Session, batch: Batch, *, now) -> tuple[int, int]:
    """Store the events past the province's cursor, bring the national records up to date, move the cursor."""
    cursor = session.get(ExchangeCursor, batch.province)
    acknowledged = cursor.acknowledged_seq if cursor else 0
    if cursor is not None and cursor.province_code != batch.province_code:
        raise Conflict("province_code", "matches_registration",
                       f"{batch.province} sends as {cursor.province_code}, not {batch.province_code}")
    if batch.first_seq > acknowledged + 1:
        raise Conflict("first_seq", "no_gap", f"batch starts at {batch.first_seq}, expected {acknowledged + 1}",
                       expected_seq=acknowledged + 1)
    _check_resent(session, batch, acknowledged)
    fresh = [event for event in batch.events if event.seq > acknowledged]
    if fresh:
        _check_new_ids(session, [event.event_id for event in fresh])
        national.apply_events(session, province=batch.province, province_code=batch.province_code, events=fresh,
                              now=now)
        _log(session, batch, fresh, now)
        if cursor is None:
            cursor = ExchangeCursor(province_slug=batch.province, province_code=batch.province_code,
                                    acknowledged_seq=0, updated_at=now)
        cursor.acknowledged_seq, cursor.updated_at = batch.last_seq, now
        session.add(cursor)
    return max(acknowledged, batch.last_seq), len(fresh)


def _log(session: Session, batch: Batch, events: list[BatchEvent], now) -> None:
    """The events as received, in the event log: COPYed on PostgreSQL (the write head and the id check before
    keep another receiver from storing them), one executemany elsewhere."""
    rows = [(batch.province, event.seq, batch.province_code, event.event_id, event.event_type, event.aggregate_type,
             event.aggregate_id, to_json(event.payload).decode(), event.at, now) for event in events]
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(_INSERT, [dict(zip(_LOG_COLUMNS, row, strict=True)) for row in rows])
        return
    loaded.copy_rows(connection, "national_events", _LOG_COLUMNS, rows)


_LOG_COLUMNS = ("province_slug", "province_seq", "province_code", "event_id", "event_type", "aggregate_type",
                "aggregate_id", "payload", "occurred_at", "received_at")


def _check_resent(session: Session, batch: Batch, acknowledged: int) -> None:
    """A resent event must be the one stored under its seq: another id means the province's outbox was rebuilt."""
    resent = {event.seq: event.event_id for event in batch.events if event.seq <= acknowledged}
    if not resent:
        return
    log = NationalEvent.__table__.c
    stored = dict(session.connection().execute(
        sa_select(log.province_seq, log.event_id).where(log.province_slug == batch.province,
                                                        log.province_seq.between(min(resent), max(resent)))).all())
    for seq, event_id in sorted(resent.items()):
        if stored.get(seq) != event_id:
            raise Conflict(f"events.{seq}.event_id", "matches_received",
                           f"seq {seq} was received with another event_id", seq=seq)


def _check_new_ids(session: Session, ids: list[uuid.UUID]) -> None:
    log = NationalEvent.__table__.c
    connection = session.connection()
    taken = connection.execute(sa_select(log.province_slug, log.province_seq).where(
        loaded.one_of(log.event_id, "ids", connection.dialect.name)).limit(1), {"ids": ids}).first()
    if taken is not None:
        raise Conflict("events.event_id", "unique", f"an event_id was already received as {taken[0]} seq {taken[1]}")


def list_cursors(session: Session) -> list[CursorPublic]:
    """Every province's acknowledged position, by slug."""
    rows = session.exec(select(ExchangeCursor).order_by(col(ExchangeCursor.province_slug)))
    return [CursorPublic.model_validate(row, from_attributes=True) for row in rows]


def acknowledged_seq(session: Session, province: str) -> int:
    cursor = session.get(ExchangeCursor, province)
    return cursor.acknowledged_seq if cursor else 0
