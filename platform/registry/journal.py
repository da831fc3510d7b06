"""The one unit of write: every change to a tenant's registry goes through `Journal.write`.

    with ctx.journal.write(session, actor=principal.subject) as unit:
        case = load(...); check(...); session.add(case)
        unit.record(action="case.archive", object_type="case", object_id=case.id,
                    event_type="case.archived", payload={"case_id": str(case.id)})

The unit takes the tenant's write head (or, with `claims`, only the natural keys the write is about), lets the
service read, check and change, then writes an audit entry per record (hash-chained, sealed) and its outbox
event, commits, and lets the next writer in; on an exception it rolls everything back. Nothing else writes
audit entries or events, and no service commits by hand.

Writers are serialised by the write head (`sequences.lock`), which keeps the audit chain linear and the outbox
gap-free. Three things keep that lock short under load:
- an in-process mutex of the journal is taken first, so the threads of one server queue on a cheap lock instead
  of on the database row, where each of them would also fight for the interpreter after every round trip;
- a write whose checks concern only its own natural keys (a case declaration and its duplicate checks) claims
  those keys instead (a bulk batch's thousands: the whole key space, with one lock) and takes the head only when
  its records are written. On PostgreSQL the audit entry, the
  outbox event and the head are then written in one statement;
- that statement starts from the head this process's last commit left, and writes only if the head is still
  that (another server may have moved it: then the head is locked and read, and the write done again).
"""
import dataclasses
import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from registry import bulk_insert, sequences
from registry import journal_statements as sql
from registry.audit import service as audit
from registry.audit.anchor import AuditAnchor, Mark
from registry.outbox import service as outbox
from registry.outbox.models import OutboxEvent

log = logging.getLogger(__name__)

OK, REFUSED = audit.OK, audit.REFUSED
_OPEN_UNIT = "registry.journal.unit"


@dataclasses.dataclass(frozen=True)
class Record:
    """What one write says happened: its audit entry and, with an `event_type`, its outbox event."""

    action: str
    object_type: str
    object_id: Any
    event_type: str | None = None
    payload: dict | None = None
    detail: dict | None = None
    result: str = OK
    actor: str | None = None  # the unit's actor unless given

    def rows(self, head: sequences.Head, actor: str) -> tuple[dict, dict | None]:
        """The audit entry and event rows, numbered from `head` (which they advance)."""
        entry = audit.new_entry(head, actor=self.actor or actor, action=self.action, object_type=self.object_type,
                                object_id=str(self.object_id), result=self.result, detail=self.detail)
        if self.event_type is None:
            return entry, None
        return entry, outbox.new_event(head, event_type=self.event_type, aggregate_type=self.object_type,
                                       aggregate_id=str(self.object_id), payload=self.payload or {})


class Journal:
    """The writers of one tenant database in this process: held by the tenant context (`ctx.journal`); a command
    that opens the database itself builds its own (`Journal.of`)."""

    def __init__(self, engine: Engine, anchor: AuditAnchor):
        self.engine, self.anchor = engine, anchor
        self._mutex = threading.Lock()
        # the head this process's last commit left: where its next writer starts (checked, never trusted blindly);
        # read and written only by the mutex holder
        self._left: sequences.Head | None = None

    @classmethod
    def of(cls, engine: Engine, *, keys_dir: Path, checkpoint_file: Path) -> "Journal":
        """The journal of a database whose audit chain is sealed with the keys in `keys_dir`."""
        return cls(engine, AuditAnchor(keys_dir, checkpoint_file))

    @contextmanager
    def write(self, session: Session, *, actor: str, claims: Iterable[str] = ()) -> Iterator["Write"]:
        """One unit of write in `session`: commits at the end of the block, rolls back if it raises.

        Without `claims` the write head is taken first, so everything the block reads is current and stays so.
        With `claims` (natural keys, e.g. an ID number's blind index) only writers of the same keys wait for each
        other until the records are written. Reads made in the session before the unit are let go.
        """
        if session.info.get(_OPEN_UNIT):
            raise RuntimeError("a unit of write is already open in this session")
        if session.in_transaction():
            session.rollback()
        unit = Write(self, session, actor)
        session.info[_OPEN_UNIT] = True
        committed = False
        try:
            if claims:
                unit.claim(*claims)
            else:
                unit.take_head()
            yield unit
            unit.flush()
            session.commit()
            committed = True
        except BaseException:
            session.rollback()
            raise
        finally:
            session.info.pop(_OPEN_UNIT, None)
            unit.end(committed)

    def refused(self, *, actor: str, action: str, status: int, problems: list[dict]) -> None:
        """Audit a refused attempt in a unit of its own: the refused write itself left nothing behind."""
        try:
            with Session(self.engine) as session, self.write(session, actor=actor) as unit:
                unit.record(action=action, object_type="request", object_id=str(status), result=REFUSED,
                            detail={"status": status, "errors": problems})
        except Exception:  # the refusal answer must still reach the caller; the gap shows in alerts
            log.exception("could not audit a refused request")


class Write:
    """An open unit of write: `record` what happened; `head` for the tenant's counters (certificate numbers)."""

    def __init__(self, journal: Journal, session: Session, actor: str):
        self.journal, self.session, self.actor = journal, session, actor
        self._head: sequences.Head | None = None
        self._holding = False
        self._records: list[Record] = []

    @property
    def head(self) -> sequences.Head:
        """The write head, locked for the rest of the unit (taken now if it was not yet)."""
        return self.take_head()

    def take_head(self) -> sequences.Head:
        """Lock the write head now, if the unit does not hold it yet: what is read from here on stays current."""
        if self._head is None:
            self._enter()
            self._head = sequences.lock(self.session, anchor=self.journal.anchor)
        return self._head

    def claim(self, *keys: str) -> None:
        """Serialise with the writers of the same natural keys, without holding the write head yet.

        PostgreSQL: a transaction-scoped advisory lock per key, taken in one order so claims never deadlock. More
        than `MAX_KEY_LOCKS` keys (a bulk import's batch) claim the whole key space with one lock: thousands of locks
        per unit would fill the server's lock table, which every tenant on it shares.
        SQLite serialises writers from their first write, so a claim there is the write head itself.
        """
        connection = self.session.connection()
        if connection.dialect.name != "postgresql":
            self.take_head()
            return
        ids = sorted({sql.lock_id(key) for key in keys})
        if len(ids) > sql.MAX_KEY_LOCKS:
            connection.execute(sql.ALL_KEYS_LOCK, {"all_keys": sql.ALL_KEYS})
            return
        connection.execute(sql.ADVISORY_LOCKS, {"keys": ids, "all_keys": sql.ALL_KEYS})

    def record(self, *, action: str, object_type: str, object_id: Any, event_type: str | None = None,
               payload: dict | None = None, detail: dict | None = None, result: str = OK,
               actor: str | None = None) -> None:
        """What happened, in order: written with the unit as an audit entry and, with `event_type`, an event."""
        self._records.append(Record(action=action, object_type=object_type, object_id=object_id,
                                    event_type=event_type, payload=payload, detail=detail, result=result,
                                    actor=actor))

    def record_events(self, *, event_type: str, aggregate_type: str, events: list[tuple[Any, dict | str]]) -> None:
        """Many events at once (a bulk import: (aggregate id, payload or its JSON text) each), numbered from the head now and
        written set-wise; the audit entry that accounts for them is `record`ed by the caller."""
        head = self.head
        rows = [outbox.new_event(head, event_type=event_type, aggregate_type=aggregate_type,
                                 aggregate_id=str(aggregate_id), payload=payload) for aggregate_id, payload in events]
        bulk_insert.insert_rows(self.session.connection(), OutboxEvent.__table__, rows)

    def flush(self) -> None:
        """Write the records' entries and events and the head (the unit does this before it commits)."""
        records, self._records = self._records, []
        if len(records) == 1:
            self._write_one(records[0])
        elif records:
            self._write_many(records)
        elif self._head is not None:
            self._head.save(self.session)

    def end(self, committed: bool) -> None:
        """The unit is over: remember (or forget) the head it left, let the next writer in."""
        journal = self.journal
        if self._head is not None:
            journal._left = dataclasses.replace(self._head) if committed else None
            if committed:
                journal.anchor.committed(Mark(self._head.audit_seq, self._head.audit_last_hash))
        if self._holding:
            self._holding = False
            journal._mutex.release()

    def _enter(self) -> None:
        if not self._holding:
            self.session.connection()  # the transaction starts here, so the turn is given back at its end
            self.journal._mutex.acquire()
            self._holding = True

    def _write_one(self, record: Record) -> None:
        connection = self.session.connection()
        postgres = connection.dialect.name == "postgresql"
        if self._head is None and postgres:
            self._enter()
            left = self.journal._left
            if left is not None and self._write_if_unchanged(left, record):
                return
        head = self.head
        entry, event = record.rows(head, self.actor)
        if postgres:  # one round trip instead of three, while the head is held
            rows = {sql.AUDIT: entry, sql.HEAD: head.values(), **({sql.EVENT: event} if event else {})}
            connection.execute(sql.WRITE[event is not None], sql.params(**rows))
            return
        connection.execute(audit.INSERT, entry)
        if event is not None:
            connection.execute(outbox.INSERT, event)
        head.save(self.session)

    def _write_if_unchanged(self, expected: sequences.Head, record: Record) -> bool:
        """Entry, event and head in one statement if the head is still `expected`; False (nothing written) when
        another writer moved it."""
        head = dataclasses.replace(expected)
        entry, event = record.rows(head, self.actor)
        rows = {sql.AUDIT: entry, sql.HEAD: head.values(), sql.EXPECTED: expected.values(),
                **({sql.EVENT: event} if event else {})}
        moved = self.session.connection().execute(sql.WRITE_IF_UNCHANGED[event is not None],
                                                  sql.params(**rows)).scalar_one()
        if moved != 1:
            return False
        self._head = head
        return True

    def _write_many(self, records: list[Record]) -> None:
        """Several records of one unit (a group commit), chained in order: one statement per table."""
        head = self.head
        entries, events = [], []
        for record in records:
            entry, event = record.rows(head, self.actor)
            entries.append(entry)
            if event is not None:
                events.append(event)
        connection = self.session.connection()
        connection.execute(audit.INSERT, entries)
        if events:
            connection.execute(outbox.INSERT, events)
        head.save(self.session)
