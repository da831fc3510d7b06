"""The tail of every write: audit entry + outbox event in the writer's transaction, and refusals on their own.

Writers are serialised by the tenant's write head (`sequences.lock`), which keeps the audit chain linear and the
outbox gap-free. Two things keep that lock short under load:
- an in-process mutex per database is taken first, so the threads of one server queue on a cheap lock instead
  of on the database row, where each of them would also fight for the interpreter after every round trip;
- a write whose checks concern only its own natural keys (a case declaration and its duplicate checks) `claim`s
  those keys instead, does its reads and its insert, and takes the head only in `written`. On PostgreSQL the
  audit entry, the outbox event and the head are then written in one statement.
"""
import dataclasses
import hashlib
import logging
import threading
import weakref
from typing import Any

from sqlalchemy import Engine, bindparam, event, insert, text, update
from sqlmodel import Session

from registry import sequences
from registry.audit import service as audit
from registry.audit.models import AuditEntry
from registry.outbox import service as outbox
from registry.outbox.models import OutboxEvent

log = logging.getLogger(__name__)

_MUTEX, _HEAD = "registry.journal.mutex", "registry.journal.head"
_mutexes: "weakref.WeakKeyDictionary[Engine, threading.Lock]" = weakref.WeakKeyDictionary()
_mutexes_guard = threading.Lock()


def _mutex(engine: Engine) -> threading.Lock:
    with _mutexes_guard:
        return _mutexes.setdefault(engine, threading.Lock())


@event.listens_for(Session, "after_transaction_end")
def _release(session: Session, transaction) -> None:
    # commit, rollback or close of the outermost transaction ends the write: let the next writer in
    if transaction.parent is None:
        session.info.pop(_HEAD, None)
        mutex = session.info.pop(_MUTEX, None)
        if mutex is not None:
            mutex.release()


def begin(session: Session) -> sequences.Head:
    """Start a write: take the tenant's write head first, so checks and writes are serialised.

    Call it before the transaction reads anything (or after `claim`); a second call returns the same head.
    """
    head = session.info.get(_HEAD)
    if head is None:
        connection = session.connection()  # the transaction starts here, so the mutex is released at its end
        mutex = _mutex(connection.engine)
        mutex.acquire()
        session.info[_MUTEX] = mutex
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
        connection.execute(_ADVISORY_LOCKS, {"first": ids[0], "second": ids[-1]})


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)


def written(session: Session, head: sequences.Head | None, *, actor: str, action: str, object_type: str,
            object_id: Any, event_type: str | None, payload: dict | None, detail: dict | None = None) -> None:
    """Audit the write and queue its event; the caller commits all three together.

    `head` is what `begin` returned, or None after `claim`: the head is taken now.
    """
    head = head or begin(session)
    entry = audit.new_entry(head, actor=actor, action=action, object_type=object_type, object_id=str(object_id),
                            detail=detail)
    row = None if event_type is None else outbox.new_event(
        head, event_type=event_type, aggregate_type=object_type, aggregate_id=str(object_id), payload=payload or {})
    connection = session.connection()
    if connection.dialect.name == "postgresql":
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
    return dataclasses.asdict(head)


def _bound_insert(table, prefix: str):
    return insert(table).values({column.name: bindparam(prefix + column.name, type_=column.type)
                                 for column in table.columns})


def _write_statement(*tables_and_prefixes):
    heads = sequences.TenantSequences.__table__
    statement = update(heads).where(heads.c.id == 1).values(
        {field.name: bindparam("h_" + field.name, type_=heads.c[field.name].type)
         for field in dataclasses.fields(sequences.Head)})
    for table, prefix in tables_and_prefixes:
        statement = statement.add_cte(_bound_insert(table, prefix).cte(f"{table.name}_row"))
    return statement


_WRITE_AUDIT = _write_statement((AuditEntry.__table__, "a_"))
_WRITE_AUDIT_AND_EVENT = _write_statement((AuditEntry.__table__, "a_"), (OutboxEvent.__table__, "o_"))
_ADVISORY_LOCKS = text("SELECT pg_advisory_xact_lock(:first), pg_advisory_xact_lock(:second)")
