"""Append to and verify the audit hash chain."""
import json
from datetime import datetime

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from registry import sequences
from registry.audit.models import AuditEntry, ChainVerdict
from registry.db_types import utcnow
from registry.security.crypto import sm3_hex

# built once: the write path runs it on every request (Core, not the ORM unit of work)
INSERT = insert(AuditEntry.__table__)
OK = "ok"
REFUSED = "refused"


def _digest(*, prev_hash: str, seq: int, at: datetime, actor: str, action: str, object_type: str,
            object_id: str, result: str, detail: str) -> str:
    # every field is in the digest: editing any of them, or the order, breaks the chain
    body = json.dumps(
        [seq, at.isoformat(timespec="microseconds"), actor, action, object_type, object_id, result, detail],
        ensure_ascii=False, separators=(",", ":"),
    )
    return sm3_hex((prev_hash + body).encode())


def new_entry(head: sequences.Head, *, actor: str, action: str, object_type: str, object_id: str,
              result: str = OK, detail: dict | None = None) -> dict:
    """The next entry of the chain as a row; advances the (locked) head, the caller writes both."""
    head.audit_seq += 1
    detail_text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    entry = dict(seq=head.audit_seq, at=utcnow(), actor=actor, action=action, object_type=object_type,
                 object_id=object_id, result=result, detail=detail_text, prev_hash=head.audit_last_hash)
    entry["hash"] = head.audit_last_hash = _digest(**entry)
    return entry


def record(session: Session, *, actor: str, action: str, object_type: str, object_id: str,
           result: str = OK, detail: dict | None = None) -> str:
    """Add one entry to the chain in its own locked step of the caller's transaction; returns its hash."""
    head = sequences.lock(session)
    entry = new_entry(head, actor=actor, action=action, object_type=object_type, object_id=object_id,
                      result=result, detail=detail)
    session.connection().execute(INSERT, entry)
    head.save(session)
    return entry["hash"]


def list_entries(session: Session, *, after: int = 0, limit: int = 100, result: str | None = None) -> list[AuditEntry]:
    """Entries in chain order, for auditors."""
    query = select(AuditEntry).where(AuditEntry.seq > after)
    if result:
        query = query.where(AuditEntry.result == result)
    return list(session.exec(query.order_by(col(AuditEntry.seq)).limit(limit)))


def verify(session: Session, *, batch: int = 1000, since: ChainVerdict | None = None) -> ChainVerdict:
    """Walk the chain and name the first entry that was edited, removed or reordered.

    `since`, an earlier intact verdict, makes it incremental: only the entries written after it are hashed, once
    its last entry still holds its hash and no entry up to it is missing (a count, cheap). Edits to older
    entries that keep their hashes are left to the next full walk. When the quick checks fail, the whole chain
    is walked, so that the verdict names the first broken entry.
    """
    # the head first: every entry up to it was committed with it, so writers racing the walk cannot make the
    # chain look cut short; entries written meanwhile are left to the next verification
    head = session.get(sequences.TenantSequences, 1)
    written = head.audit_seq if head is not None else None
    expected_prev, expected_seq = sequences.GENESIS_HASH, 1
    incremental = since is not None and since.ok and since.through_seq > 0 and since.through_hash is not None
    if incremental:
        anchor = session.get(AuditEntry, since.through_seq)
        present = session.exec(select(func.count()).select_from(AuditEntry)
                               .where(AuditEntry.seq <= since.through_seq)).one()
        if anchor is None or present != since.through_seq or not _intact(anchor, since.through_hash):
            return verify(session, batch=batch)
        expected_prev, expected_seq = since.through_hash, since.through_seq + 1
    checked = 0
    while True:
        query = select(AuditEntry).where(AuditEntry.seq >= expected_seq)
        if written is not None:
            query = query.where(AuditEntry.seq <= written)
        rows = session.exec(query.order_by(col(AuditEntry.seq)).limit(batch)).all()
        for entry in rows:
            if entry.seq != expected_seq:
                return _broken(incremental, session, batch, checked, expected_seq, f"entry {expected_seq} is missing")
            if entry.prev_hash != expected_prev:
                return _broken(incremental, session, batch, checked, entry.seq,
                               "prev_hash does not match the previous entry")
            if not _intact(entry, entry.hash):
                return _broken(incremental, session, batch, checked, entry.seq, "content does not match its hash")
            expected_prev, expected_seq, checked = entry.hash, entry.seq + 1, checked + 1
        if len(rows) < batch:
            break
    last = expected_seq - 1
    if written is not None and last != written:
        return _broken(incremental, session, batch, checked, last + 1,
                       f"chain ends at {last} but {written} entries were written")
    return ChainVerdict(ok=True, checked=checked, through_seq=last,
                        through_hash=expected_prev if last else None, full=not incremental)


def _intact(entry: AuditEntry, expected_hash: str) -> bool:
    """The entry's content still hashes to what it says, and that is the hash expected of it."""
    recomputed = _digest(prev_hash=entry.prev_hash, seq=entry.seq, at=entry.at, actor=entry.actor,
                         action=entry.action, object_type=entry.object_type, object_id=entry.object_id,
                         result=entry.result, detail=entry.detail)
    return recomputed == entry.hash == expected_hash


def _broken(incremental: bool, session: Session, batch: int, checked: int, seq: int, reason: str) -> ChainVerdict:
    if incremental:  # the whole walk names the first broken entry, which may lie before the checkpoint
        return verify(session, batch=batch)
    return ChainVerdict(ok=False, checked=checked, first_broken_seq=seq, reason=reason)
