"""The tenant's write head: one row that orders every audit entry, outbox event and certificate number.

Locking this row (SELECT ... FOR UPDATE; BEGIN IMMEDIATE on SQLite) is what keeps the audit hash chain
linear and the outbox gap-free when requests run concurrently.
"""
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, select

GENESIS_HASH = "0" * 64


class TenantSequences(SQLModel, table=True):
    __tablename__ = "tenant_sequences"

    id: int = Field(default=1, primary_key=True)
    audit_seq: int = 0
    audit_last_hash: str = Field(default=GENESIS_HASH, max_length=64)
    outbox_seq: int = 0
    certificate_seq: int = 0


def lock(session: Session) -> TenantSequences:
    """Take the write head for the rest of this transaction; call it before the transaction reads anything."""
    query = select(TenantSequences).where(TenantSequences.id == 1).with_for_update()
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no row locks: a first statement that writes takes the database write lock, and a
        # transaction that has not read yet cannot hold a stale snapshot
        session.execute(sqlite_insert(TenantSequences).values(id=1).on_conflict_do_nothing())
        return session.exec(query).one()
    head = session.exec(query).first()
    if head is None:
        # first write of a new tenant: concurrent first writers race here, and ON CONFLICT lets all but one pass
        session.execute(pg_insert(TenantSequences).values(id=1).on_conflict_do_nothing())
        head = session.exec(query).one()
    return head
