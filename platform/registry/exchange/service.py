"""Ministry side: store a verified batch once, behind the province's cursor, with its audit entry.

A province's outbox is received in epochs: one per incarnation of its database. A batch from another
incarnation than the current epoch's (the province was purged or offboarded, then provisioned again and numbers
its outbox from 1) closes that epoch and opens the next; what earlier epochs brought stays as evidence. A closed
epoch (`close_province`, when the province is offboarded) refuses further batches of its incarnation.
"""
import uuid
from collections.abc import Callable

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
CLOSE_ACTION = "exchange.close_province"
_INSERT = insert(NationalEvent.__table__)


def receive_batch(session: Session, batch: Batch, *, journal: Journal) -> tuple[int, int, int]:
    """Store the events after the province's cursor and advance it; (acknowledged_through, newly stored, epoch).

    A batch that starts past cursor+1 would leave a gap: 409 naming the expected seq. Events at or below the
    cursor were stored before (a resend): they must carry the same event_id, and are not stored again.
    """
    # the province's claim serialises its own receivers (also across hub replicas) before the cursor is read;
    # receivers of other provinces go on beside it until the write head, taken to pair people across provinces
    with journal.write(session, actor=f"exchange:{batch.province}", claims=[_claim(batch.province)]) as unit:
        now = utcnow()
        cursor = _cursor_for(session, batch, now=now)
        through, fresh = _store(session, batch, cursor, now=now, before_matching=unit.take_head)
        unit.record(action=RECEIVE_ACTION, object_type="exchange_batch",
                    object_id=f"{batch.province}:{batch.first_seq}-{batch.last_seq}",
                    detail={"province": batch.province, "epoch": cursor.epoch, "first_seq": batch.first_seq,
                            "last_seq": batch.last_seq, "stored": fresh, "acknowledged_through": through})
    return through, fresh, cursor.epoch


def current_cursor(session: Session, province: str) -> ExchangeCursor | None:
    """The province's cursor of its newest epoch, if it ever sent anything (or was closed)."""
    return session.exec(select(ExchangeCursor).where(ExchangeCursor.province_slug == province)
                        .order_by(col(ExchangeCursor.epoch).desc()).limit(1)).first()


def _cursor_for(session: Session, batch: Batch, *, now) -> ExchangeCursor:
    """The epoch the batch belongs to: the current one, or a new one for a new incarnation of the province."""
    cursor = current_cursor(session, batch.province)
    if cursor is None:
        return ExchangeCursor(province_slug=batch.province, epoch=1, province_code=batch.province_code,
                              incarnation=batch.incarnation, acknowledged_seq=0, updated_at=now)
    if cursor.province_code != batch.province_code:
        raise Conflict("province_code", "matches_registration",
                       f"{batch.province} sends as {cursor.province_code}, not {batch.province_code}")
    same = batch.incarnation is None or batch.incarnation == cursor.incarnation
    if not same and cursor.incarnation is None and not _starts_anew(session, batch, cursor):
        cursor.incarnation = batch.incarnation  # an epoch received before incarnations existed: the sender's own
        same = True
    if not same:
        if _earlier_epoch_of(session, batch):
            raise Conflict("epoch", "epoch_closed", f"{batch.province}'s incarnation {batch.incarnation} belongs to "
                                                     "an earlier, closed epoch")
        if cursor.closed_at is None:
            cursor.closed_at = now  # a new incarnation ends the old one, offboarded or purged
            session.add(cursor)
        return ExchangeCursor(province_slug=batch.province, epoch=cursor.epoch + 1, province_code=batch.province_code,
                              incarnation=batch.incarnation, acknowledged_seq=0, updated_at=now)
    if cursor.closed_at is not None:
        raise Conflict("epoch", "epoch_closed", f"{batch.province}'s exchange (epoch {cursor.epoch}) was closed "
                                                 f"when it was offboarded; a re-provisioned province starts a new one",
                       epoch=cursor.epoch)
    return cursor


def _starts_anew(session: Session, batch: Batch, cursor: ExchangeCursor) -> bool:
    """Whether a batch resends seqs the epoch holds under other event ids: another database numbering from 1."""
    resent = {event.seq: event.event_id for event in batch.events if event.seq <= cursor.acknowledged_seq}
    if not resent:
        return False
    stored = dict(session.exec(select(NationalEvent.province_seq, NationalEvent.event_id).where(
        NationalEvent.province_slug == batch.province, NationalEvent.epoch == cursor.epoch,
        col(NationalEvent.province_seq).in_(resent))).all())
    return any(stored.get(seq) != event_id for seq, event_id in resent.items())


def _earlier_epoch_of(session: Session, batch: Batch) -> bool:
    return session.exec(select(ExchangeCursor.epoch).where(ExchangeCursor.province_slug == batch.province,
                                                           ExchangeCursor.incarnation == batch.incarnation)).first() \
        is not None


def _claim(province: str) -> str:
    return f"exchange-province:{province}"


def _store(session: Session, batch: Batch, cursor: ExchangeCursor, *, now,
           before_matching: Callable[[], object]) -> tuple[int, int]:
    """Store the events past the epoch's cursor, bring the national records up to date, move the cursor."""
    acknowledged = cursor.acknowledged_seq
    if batch.first_seq > acknowledged + 1:
        raise Conflict("first_seq", "no_gap", f"batch starts at {batch.first_seq}, expected {acknowledged + 1}",
                       expected_seq=acknowledged + 1)
    _check_resent(session, batch, cursor.epoch, acknowledged)
    fresh = [event for event in batch.events if event.seq > acknowledged]
    if fresh:
        _check_new_ids(session, [event.event_id for event in fresh])
        national.apply_events(session, province=batch.province, province_code=batch.province_code, events=fresh,
                              now=now, before_matching=before_matching)
        _log(session, batch, cursor.epoch, fresh, now)
        cursor.acknowledged_seq, cursor.updated_at = batch.last_seq, now
    session.add(cursor)
    return max(acknowledged, batch.last_seq), len(fresh)


def _log(session: Session, batch: Batch, epoch: int, events: list[BatchEvent], now) -> None:
    """The events as received, in the event log: COPYed on PostgreSQL (the write head and the id check before
    keep another receiver from storing them), one executemany elsewhere."""
    rows = [(batch.province, epoch, event.seq, batch.province_code, event.event_id, event.event_type, event.aggregate_type,
             event.aggregate_id, to_json(event.payload).decode(), event.at, now) for event in events]
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(_INSERT, [dict(zip(_LOG_COLUMNS, row, strict=True)) for row in rows])
        return
    loaded.copy_rows(connection, "national_events", _LOG_COLUMNS, rows)


_LOG_COLUMNS = ("province_slug", "epoch", "province_seq", "province_code", "event_id", "event_type", "aggregate_type",
                "aggregate_id", "payload", "occurred_at", "received_at")


def _check_resent(session: Session, batch: Batch, epoch: int, acknowledged: int) -> None:
    """A resent event must be the one stored under its seq: another id means the province's outbox was rebuilt."""
    resent = {event.seq: event.event_id for event in batch.events if event.seq <= acknowledged}
    if not resent:
        return
    log = NationalEvent.__table__.c
    stored = dict(session.connection().execute(
        sa_select(log.province_seq, log.event_id).where(log.province_slug == batch.province, log.epoch == epoch,
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
    """Every province's acknowledged position per epoch, by slug then epoch (the current epoch last)."""
    rows = session.exec(select(ExchangeCursor).order_by(col(ExchangeCursor.province_slug), col(ExchangeCursor.epoch)))
    return [CursorPublic.model_validate(row, from_attributes=True) for row in rows]


def acknowledged_seq(session: Session, province: str) -> int:
    """How far the province's current epoch was received."""
    cursor = current_cursor(session, province)
    return cursor.acknowledged_seq if cursor else 0


def close_province(session: Session, *, province: str, province_code: str, incarnation: str | None,
                   journal: Journal, actor: str) -> CursorPublic:
    """Deregister an offboarded province: its current epoch is closed (what it sent stays), audited; idempotent."""
    with journal.write(session, actor=actor, claims=[_claim(province)]) as unit:
        unit.take_head()  # no batch of the province is being stored meanwhile, and what is read stays current
        now = utcnow()
        cursor = current_cursor(session, province)
        if cursor is None or (incarnation and cursor.incarnation not in (None, incarnation)):
            # it never sent anything from this incarnation: an empty epoch records that it was closed
            cursor = ExchangeCursor(province_slug=province, epoch=cursor.epoch + 1 if cursor else 1,
                                    province_code=province_code, incarnation=incarnation, updated_at=now)
        if cursor.closed_at is None:
            cursor.closed_at = now
            session.add(cursor)
            unit.record(action=CLOSE_ACTION, object_type="exchange_cursor", object_id=f"{province}:{cursor.epoch}",
                        detail={"province": province, "epoch": cursor.epoch,
                                "acknowledged_seq": cursor.acknowledged_seq})
        public = CursorPublic.model_validate(cursor, from_attributes=True)
    return public
