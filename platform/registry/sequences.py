"""The tenant's write head: one row that orders every audit entry, outbox event and certificate number.

Locking this row (SELECT ... FOR UPDATE; BEGIN IMMEDIATE on SQLite) is what keeps the audit hash chain
linear and the outbox gap-free when requests run concurrently.
"""
from dataclasses import dataclass, field

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel

from registry.audit import anchor as audit_anchor

GENESIS_HASH = "0" * 64


class TenantSequences(SQLModel, table=True):
    __tablename__ = "tenant_sequences"

    id: int = Field(default=1, primary_key=True)
    audit_seq: int = 0
    audit_last_hash: str = Field(default=GENESIS_HASH, max_length=64)
    outbox_seq: int = 0
    certificate_seq: int = 0


@dataclass
class Head:
    """The write head as this transaction sees it, once locked; `save` writes the counters back."""

    audit_seq: int
    audit_last_hash: str
    outbox_seq: int
    certificate_seq: int
    # seals the audit entries written from this head (the tenant's key, never in the database)
    anchor: audit_anchor.AuditAnchor | None = field(default=None, repr=False, compare=False)

    def values(self) -> dict:
        """The counters as the table's columns."""
        return {name: getattr(self, name) for name in COLUMNS}

    def save(self, session: Session) -> None:
        session.connection().execute(_SAVE, self.values())


_table = TenantSequences.__table__
COLUMNS = ("audit_seq", "audit_last_hash", "outbox_seq", "certificate_seq")
# built once: every write runs these, and a statement rebuilt per call costs more than its round trip
_LOCK = select(*(_table.c[name] for name in COLUMNS)).where(_table.c.id == 1).with_for_update()
_SAVE = update(_table).where(_table.c.id == 1)
_SQLITE_SEED = sqlite_insert(_table).values(id=1).on_conflict_do_nothing()
_PG_SEED = pg_insert(_table).values(id=1).on_conflict_do_nothing()


def lock(session: Session, *, anchor: audit_anchor.AuditAnchor) -> Head:
    """Take the write head for the rest of this transaction; call it before the transaction reads anything.
    `anchor` seals the entries written from it (the journal's)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # SQLite has no row locks: a first statement that writes takes the database write lock, and a
        # transaction that has not read yet cannot hold a stale snapshot
        connection.execute(_SQLITE_SEED)
        return Head(*connection.execute(_LOCK).one(), anchor=anchor)
    row = connection.execute(_LOCK).first()
    if row is None:
        # first write of a new tenant: concurrent first writers race here, and ON CONFLICT lets all but one pass
        connection.execute(_PG_SEED)
        row = connection.execute(_LOCK).one()
    return Head(*row, anchor=anchor)
