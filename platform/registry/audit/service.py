"""Append to and verify the audit hash chain, sealed and checkpointed outside the database (`anchor`)."""
import json
from datetime import datetime

from sqlalchemy import func, insert
from sqlmodel import Session, col, select

from registry import sequences
from registry.audit.anchor import AnchorError, AuditAnchor, Checkpoints, Mark
from registry.audit.models import AuditEntry, AuditFilters, ChainVerdict
from registry.db_types import china_days, utcnow
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
    """The next entry of the chain as a row, sealed; advances the (locked) head, the caller writes both."""
    if head.anchor is None:
        raise AnchorError("the write head has no audit anchor: build the engine with registry.db.make_engine")
    after = Mark(head.audit_seq, head.audit_last_hash)
    head.audit_seq += 1
    detail_text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    entry = dict(seq=head.audit_seq, at=utcnow(), actor=actor, action=action, object_type=object_type,
                 object_id=object_id, result=result, detail=detail_text, prev_hash=head.audit_last_hash)
    entry["hash"] = head.audit_last_hash = _digest(**entry)
    entry["mac"] = head.anchor.seal(entry["hash"], after=after)
    return entry


def list_entries(session: Session, filters: AuditFilters) -> list[AuditEntry]:
    """Entries in chain order (or newest first), for auditors."""
    query = select(AuditEntry).where(AuditEntry.seq > filters.after, *china_days(col(AuditEntry.at), filters.at_from,
                                                                                  filters.at_to))
    if filters.before is not None:
        query = query.where(AuditEntry.seq < filters.before)
    for name in ("result", "actor", "action", "object_type", "object_id"):
        if getattr(filters, name) is not None:
            query = query.where(getattr(AuditEntry, name) == getattr(filters, name))
    order = col(AuditEntry.seq).desc() if filters.newest_first else col(AuditEntry.seq)
    return list(session.exec(query.order_by(order).limit(filters.limit)))


def verify(session: Session, *, anchor: AuditAnchor, batch: int = 1000,
           since: ChainVerdict | None = None) -> ChainVerdict:
    """Walk the chain and name the first entry that was edited, removed, reordered or cut off.

    Each entry must link to the previous one (SM3), carry the seal of its hash made with the tenant's audit key
    (entries written before sealing began are covered by the first checkpoint instead), and the chain must still
    reach the newest checkpoint of its head with the same hash. Both key and checkpoints live outside the database.

    `since`, an earlier intact verdict, makes it incremental: only the entries written after it are hashed, once
    its last entry still holds its hash and no entry up to it is missing (a count, cheap). Edits to older
    entries that keep their hashes are left to the next full walk. When the quick checks fail, the whole chain
    is walked, so that the verdict names the first broken entry.
    """
    seals = anchor
    try:
        # before the head is read: a checkpoint only ever records entries committed before it was written
        marks = seals.checkpoints()
    except AnchorError as exc:
        return ChainVerdict(ok=False, checked=0, reason=f"audit anchor: {exc}")
    # the head next: every entry up to it was committed with it, so writers racing the walk cannot make the
    # chain look cut short; entries written meanwhile are left to the next verification
    head = session.get(sequences.TenantSequences, 1)
    written = head.audit_seq if head is not None else None
    walk = _Walk(seals, marks)
    incremental = (since is not None and since.ok and since.through_seq > 0 and since.through_hash is not None
                   and marks is not None)
    if incremental:
        if not _still_intact_through(session, since, marks):
            return verify(session, anchor=anchor, batch=batch)
        walk.expected_prev, walk.expected_seq, walk.sealed_seen = since.through_hash, since.through_seq + 1, True
    while True:
        query = select(AuditEntry).where(AuditEntry.seq >= walk.expected_seq)
        if written is not None:
            query = query.where(AuditEntry.seq <= written)
        rows = session.exec(query.order_by(col(AuditEntry.seq)).limit(batch)).all()
        for entry in rows:
            problem = walk.step(entry)
            if problem:
                return _broken(incremental, session, seals, batch, walk.checked, *problem)
        if len(rows) < batch:
            break
    last = walk.expected_seq - 1
    if written is not None and last != written:
        return _broken(incremental, session, seals, batch, walk.checked, last + 1,
                       f"chain ends at {last} but {written} entries were written")
    if marks is not None and last < marks.head.seq:
        return _broken(incremental, session, seals, batch, walk.checked, last + 1,
                       f"chain ends at {last} but the checkpoint outside the database records entry {marks.head.seq}")
    through = Mark(last, walk.expected_prev)
    if marks is None and walk.sealed_seen:
        return ChainVerdict(ok=False, checked=walk.checked, reason=f"audit anchor: the checkpoint file {seals.path} "
                            "is missing, so entries cut off the end would go unnoticed: restore it")
    try:
        if marks is None:
            seals.start_if_absent(through)  # entries written before the upgrade: this first checkpoint covers them
        else:
            seals.advance(through)
    except (AnchorError, OSError) as exc:
        return ChainVerdict(ok=False, checked=walk.checked, reason=f"audit anchor: {exc}")
    return ChainVerdict(ok=True, checked=walk.checked, through_seq=last,
                        through_hash=walk.expected_prev if last else None, full=not incremental)


class _Walk:
    """The checks of each entry in chain order; `step` names what is wrong with the next one."""

    def __init__(self, seals: AuditAnchor, marks: Checkpoints | None):
        self.seals, self.marks = seals, marks
        self.expected_prev, self.expected_seq, self.checked = sequences.GENESIS_HASH, 1, 0
        self.sealed_seen = False

    def step(self, entry: AuditEntry) -> tuple[int, str] | None:
        if entry.seq != self.expected_seq:
            return self.expected_seq, f"entry {self.expected_seq} is missing"
        if entry.prev_hash != self.expected_prev:
            return entry.seq, "prev_hash does not match the previous entry"
        if not _intact(entry, entry.hash):
            return entry.seq, "content does not match its hash"
        problem = self._seal_problem(entry)
        if problem:
            return entry.seq, problem
        for mark in (self.marks.baseline, self.marks.head) if self.marks else ():
            if entry.seq == mark.seq and entry.hash != mark.hash:
                return entry.seq, "hash differs from the checkpoint kept outside the database (chain recomputed)"
        self.expected_prev, self.expected_seq, self.checked = entry.hash, entry.seq + 1, self.checked + 1
        return None

    def _seal_problem(self, entry: AuditEntry) -> str | None:
        if entry.mac is None:
            # only entries written before sealing began may lack a seal, and the first checkpoint covers them
            before_sealing = entry.seq <= self.marks.baseline.seq if self.marks else not self.sealed_seen
            return None if before_sealing else "entry has no seal (MAC), yet it was written after sealing began"
        self.sealed_seen = True
        if not self.seals.sealed(entry.hash, entry.mac):
            return "seal (HMAC-SM3) does not match: re-hashed without the audit key, or sealed with another key"
        return None


def _still_intact_through(session: Session, since: ChainVerdict, marks: Checkpoints) -> bool:
    """The quick checks of an incremental verification: nothing up to `since` was removed or recomputed."""
    anchor_entry = session.get(AuditEntry, since.through_seq)
    present = session.exec(select(func.count()).select_from(AuditEntry)
                           .where(AuditEntry.seq <= since.through_seq)).one()
    if anchor_entry is None or present != since.through_seq or not _intact(anchor_entry, since.through_hash):
        return False
    for mark in (marks.baseline, marks.head):
        if 0 < mark.seq <= since.through_seq:
            entry = session.get(AuditEntry, mark.seq)
            if entry is None or entry.hash != mark.hash:
                return False
    return True


def entry_intact(entry: AuditEntry, *, anchor: AuditAnchor) -> bool:
    """One entry, on its own: its content hashes to its hash, and its seal is the audit key's. (Its place in the
    chain is what `verify` checks.)"""
    return _intact(entry, entry.hash) and entry.mac is not None and anchor.sealed(entry.hash, entry.mac)


def _intact(entry: AuditEntry, expected_hash: str) -> bool:
    """The entry's content still hashes to what it says, and that is the hash expected of it."""
    recomputed = _digest(prev_hash=entry.prev_hash, seq=entry.seq, at=entry.at, actor=entry.actor,
                         action=entry.action, object_type=entry.object_type, object_id=entry.object_id,
                         result=entry.result, detail=entry.detail)
    return recomputed == entry.hash == expected_hash


def _broken(incremental: bool, session: Session, anchor: AuditAnchor, batch: int, checked: int, seq: int, reason: str) -> ChainVerdict:
    if incremental:  # the whole walk names the first broken entry, which may lie before the checkpoint
        return verify(session, anchor=anchor, batch=batch)
    return ChainVerdict(ok=False, checked=checked, first_broken_seq=seq, reason=reason)
