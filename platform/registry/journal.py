"""The tail of every write: audit entry + outbox event in the writer's transaction, and refusals on their own.

Writers are serialised by the tenant's write head (`sequences.lock`), which keeps the audit chain linear and the
outbox gap-free. Three things keep that lock short under load:
- an in-process mutex per database is taken first, so the threads of one server queue on a cheap lock instead
  of on the database row, where each of them would also fight for the interpreter after every round trip;
- a write whose checks concern only its own natural keys (a case declaration and its duplicate checks) `claim`s
  those keys instead, does its reads and its insert, and takes the head only in `written`. On PostgreSQL the
  audit entry, the outbox event and the head are then written in one statement;
- that statement starts from the head this process's last commit left, and writes only if the head is still
  that (another server may have moved it: then the head is locked and read, and the write done again).
"""
import dataclasses
import functools
import hashlib
import logging
import threading
import weakref
from typing import Any

from sqlalchemy import Engine, bindparam, event, func, insert, select, text, update
from sqlmodel import Session

from registry import sequences
from registry.audit import service as audit
from registry.audit.models import AuditEntry
from registry.outbox import service as outbox
from registry.outbox.models import OutboxEvent

log = logging.getLogger(__name__)

_WRITER, _HEAD = "registry.journal.writer", "registry.journal.head"


class _Writer:
    """One per database in this process: the mutex its writers queue on, and the head the last commit left."""

    def __init__(self) -> None:
        self.mutex = threading.Lock()
        self.head: sequences.Head | None = None  # read and written only by the mutex holder


_writers: "weakref.WeakKeyDictionary[Engine, _Writer]" = weakref.WeakKeyDictionary()
_writers_guard = threading.Lock()


def _writer(engine: Engine) -> _Writer:
    with _writers_guard:
        return _writers.setdefault(engine, _Writer())


@event.listens_for(Session, "after_commit")
def _remember_head(session: Session) -> None:
    # what this commit left is where the next writer of this process starts (checked, never trusted blindly)
    writer, head = session.info.get(_WRITER), session.info.get(_HEAD)
    if writer is not None and head is not None:
        writer.head = dataclasses.replace(head)
        session.info[_HEAD] = None
        audit.committed(head)


@event.listens_for(Session, "after_transaction_end")
def _release(session: Session, transaction) -> None:
    # commit, rollback or close of the outermost transaction ends the write: let the next writer in
    if transaction.parent is None:
        head = session.info.pop(_HEAD, None)
        writer = session.info.pop(_WRITER, None)
        if writer is not None:
            if head is not None:
                writer.head = None  # rolled back: what the head holds now is unknown here
            writer.mutex.release()


def _enter(session: Session) -> _Writer:
    """This process's turn to write to the session's database; held until the transaction ends."""
    writer = session.info.get(_WRITER)
    if writer is None:
        connection = session.connection()  # the transaction starts here, so the turn is given back at its end
        writer = _writer(connection.engine)
        writer.mutex.acquire()
        session.info[_WRITER] = writer
    return writer


def begin(session: Session) -> sequences.Head:
    """Start a write: take the tenant's write head first, so checks and writes are serialised.

    Call it before the transaction reads anything (or after `claim`); a second call returns the same head.
    """
    head = session.info.get(_HEAD)
    if head is None:
        _enter(session)
        head = session.info[_HEAD] = sequences.lock(session)
    return head


def claim(session: Session, *keys: str) -> None:
    """Serialise the writers of the same natural keys, without holding the write head yet.

    PostgreSQL: a transaction-scoped advisory lock per key, taken in one order so claims never deadlock.
    SQLite serialises writers from their first write, so a claim there is the write head itself.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        begin(session)
        return
    ids = sorted({_lock_id(key) for key in keys})
    if ids:
        # the select list is evaluated left to right: the locks are taken in sorted order
        connection.execute(_advisory_locks(len(ids)), {f"k{i}": lock_id for i, lock_id in enumerate(ids)})


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def written(session: Session, head: sequences.Head | None, *, actor: str, action: str, object_type: str,
            object_id: Any, event_type: str | None, payload: dict | None, detail: dict | None = None,
            result: str = audit.OK) -> None:
    """Audit the write and queue its event; the caller commits all three together.

    `head` is what `begin` returned, or None after `claim`: the head is taken now. On PostgreSQL, when this
    process wrote last, the head it left is checked and advanced in the same statement that writes the entry
    and the event; if another writer came in between, nothing is written and the head is locked and read.
    """
    log_entry, event_fields = _record(actor=actor, action=action, object_type=object_type, object_id=object_id,
                                      event_type=event_type, payload=payload, detail=detail, result=result)
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    if head is None and session.info.get(_HEAD) is None and postgres:
        writer = _enter(session)
        if writer.head is not None and _write_if_head_unchanged(session, writer.head, log_entry, event_fields):
            return
    head = head or begin(session)
    entry, row = _next_rows(head, log_entry, event_fields)
    if postgres:
        # one round trip instead of three, while the head is held
        params = {**_prefixed("a_", entry), **_prefixed("h_", _head_values(head))}
        if row is None:
            connection.execute(_WRITE_AUDIT, params)
        else:
            connection.execute(_WRITE_AUDIT_AND_EVENT, {**params, **_prefixed("o_", row)})
        return
    connection.execute(audit.INSERT, entry)
    if row is not None:
        connection.execute(outbox.INSERT, row)
    head.save(session)


def written_many(session: Session, records: list[dict]) -> None:
    """`written` for several writes of one transaction (a group commit), chained in the order given.

    Each record holds `written`'s keyword arguments (a refused item: result=audit.REFUSED, no event). The head
    is taken now (or was, by `claim` on SQLite); all entries, all events and the head then take one statement
    each.
    """
    if len(records) == 1:
        written(session, None, **records[0])
        return
    head = begin(session)
    entries, rows = [], []
    for record in records:
        entry, row = _next_rows(head, *_record(**record))
        entries.append(entry)
        if row is not None:
            rows.append(row)
    connection = session.connection()
    connection.execute(audit.INSERT, entries)
    if rows:
        connection.execute(outbox.INSERT, rows)
    head.save(session)


def _record(*, actor: str, action: str, object_type: str, object_id: Any, event_type: str | None,
            payload: dict | None, detail: dict | None = None, result: str = audit.OK) -> tuple[dict, dict | None]:
    log_entry = {"actor": actor, "action": action, "object_type": object_type, "object_id": str(object_id),
                 "detail": detail, "result": result}
    event_fields = None if event_type is None else {
        "event_type": event_type, "aggregate_type": object_type, "aggregate_id": str(object_id),
        "payload": payload or {}}
    return log_entry, event_fields


def _next_rows(head: sequences.Head, log_entry: dict, event_fields: dict | None) -> tuple[dict, dict | None]:
    entry = audit.new_entry(head, **log_entry)
    return entry, None if event_fields is None else outbox.new_event(head, **event_fields)


def _write_if_head_unchanged(session: Session, expected: sequences.Head, log_entry: dict,
                             event_fields: dict | None) -> bool:
    """Write entry, event and head in one statement if the head is still `expected`; False (nothing written)
    when another writer moved it."""
    head = dataclasses.replace(expected)
    entry, row = _next_rows(head, log_entry, event_fields)
    params = {**_prefixed("a_", entry), **_prefixed("h_", _head_values(head)),
              **_prefixed("x_", _head_values(expected))}
    if row is None:
        written_heads = session.connection().execute(_WRITE_AUDIT_IF_UNCHANGED, params).scalar_one()
    else:
        written_heads = session.connection().execute(_WRITE_AUDIT_AND_EVENT_IF_UNCHANGED,
                                                     {**params, **_prefixed("o_", row)}).scalar_one()
    if written_heads != 1:
        return False
    session.info[_HEAD] = head
    return True


def refused(engine: Engine, *, actor: str, action: str, status: int, problems: list[dict]) -> None:
    """Audit a refused attempt in its own transaction: the refused write itself left nothing behind."""
    try:
        with Session(engine) as session:
            audit.record(session, actor=actor, action=action, object_type="request", object_id=str(status),
                         result=audit.REFUSED, detail={"status": status, "errors": problems})
            session.commit()
    except Exception:  # the refusal answer must still reach the caller; the gap shows in alerts
        log.exception("could not audit a refused request")


# --- statements, built once ---------------------------------------------------------------------------------------

def _prefixed(prefix: str, values: dict) -> dict:
    return {prefix + name: value for name, value in values.items()}


def _head_values(head: sequences.Head) -> dict:
    return head.values()


def _bound_insert(table, prefix: str):
    return insert(table).values({column.name: bindparam(prefix + column.name, type_=column.type)
                                 for column in table.columns})


_HEADS = sequences.TenantSequences.__table__
_HEAD_FIELDS = sequences.COLUMNS


def _head_update():
    return update(_HEADS).where(_HEADS.c.id == 1).values(
        {name: bindparam("h_" + name, type_=_HEADS.c[name].type) for name in _HEAD_FIELDS})


def _write_statement(*tables_and_prefixes):
    statement = _head_update()
    for table, prefix in tables_and_prefixes:
        statement = statement.add_cte(_bound_insert(table, prefix).cte(f"{table.name}_row"))
    return statement


def _write_if_unchanged_statement(*tables_and_prefixes):
    """Advance the head only if it is still what the caller expects; the rows are inserted only if it was."""
    moved = _head_update().where(*(_HEADS.c[name] == bindparam("x_" + name, type_=_HEADS.c[name].type)
                                   for name in _HEAD_FIELDS)).returning(_HEADS.c.id).cte("head_row")
    statement = select(func.count()).select_from(moved)
    for table, prefix in tables_and_prefixes:
        values = select(*(bindparam(prefix + column.name, type_=column.type).label(column.name)
                          for column in table.columns)).select_from(moved)
        statement = statement.add_cte(insert(table).from_select([c.name for c in table.columns], values)
                                      .cte(f"{table.name}_row"))
    return statement


_WRITE_AUDIT = _write_statement((AuditEntry.__table__, "a_"))
_WRITE_AUDIT_AND_EVENT = _write_statement((AuditEntry.__table__, "a_"), (OutboxEvent.__table__, "o_"))
_WRITE_AUDIT_IF_UNCHANGED = _write_if_unchanged_statement((AuditEntry.__table__, "a_"))
_WRITE_AUDIT_AND_EVENT_IF_UNCHANGED = _write_if_unchanged_statement((AuditEntry.__table__, "a_"),
                                                                    (OutboxEvent.__table__, "o_"))
@functools.cache
def _advisory_locks(count: int):
    return text("SELECT " + ", ".join(f"pg_advisory_xact_lock(:k{i})" for i in range(count)))
