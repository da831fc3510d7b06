"""Append to and verify the audit hash chain."""
import json
from datetime import datetime

from sqlalchemy import insert
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


def verify(session: Session, *, batch: int = 1000) -> ChainVerdict:
    """Walk the whole chain and name the first entry that was edited, removed or reordered."""
    expected_prev, expected_seq, checked = sequences.GENESIS_HASH, 1, 0
    while True:
        rows = session.exec(
            select(AuditEntry).where(AuditEntry.seq >= expected_seq).order_by(col(AuditEntry.seq)).limit(batch)
        ).all()
        for entry in rows:
            if entry.seq != expected_seq:
                return ChainVerdict(ok=False, checked=checked, first_broken_seq=expected_seq,
                                    reason=f"entry {expected_seq} is missing")
            if entry.prev_hash != expected_prev:
                return ChainVerdict(ok=False, checked=checked, first_broken_seq=entry.seq,
                                    reason="prev_hash does not match the previous entry")
            recomputed = _digest(prev_hash=entry.prev_hash, seq=entry.seq, at=entry.at, actor=entry.actor,
                                 action=entry.action, object_type=entry.object_type, object_id=entry.object_id,
                                 result=entry.result, detail=entry.detail)
            if recomputed != entry.hash:
                return ChainVerdict(ok=False, checked=checked, first_broken_seq=entry.seq,
                                    reason="content does not match its hash")
            expected_prev, expected_seq, checked = entry.hash, entry.seq + 1, checked + 1
        if len(rows) < batch:
            break
    head = session.get(sequences.TenantSequences, 1)  # the counter, read without a lock
    if head is not None and head.audit_seq != checked:
        return ChainVerdict(ok=False, checked=checked, first_broken_seq=checked + 1,
                            reason=f"chain ends at {checked} but {head.audit_seq} entries were written")
    return ChainVerdict(ok=True, checked=checked)
