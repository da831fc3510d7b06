"""Audit trail: every write and every refusal, hash-chained with SM3."""

from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entries"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    at: ChinaTime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=200)
    object_type: str = Field(max_length=64)
    object_id: str = Field(max_length=64)
    result: str = Field(max_length=16, index=True)
    detail: str = Field(default="{}")
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    # HMAC-SM3 of `hash` with the tenant's audit key (outside the database); None: written before sealing began
    mac: str | None = Field(default=None, max_length=64)


class AuditEntryPublic(SQLModel):
    seq: int
    at: ChinaTime
    actor: str
    action: str
    object_type: str
    object_id: str
    result: str
    detail: str
    prev_hash: str
    hash: str
    mac: str | None = None


class AuditEntriesPublic(SQLModel):
    data: list[AuditEntryPublic]
    count: int


class ChainVerdict(SQLModel):
    ok: bool
    # entries hashed by this verification (after `since`, for an incremental one)
    checked: int
    first_broken_seq: int | None = None
    reason: str | None = None
    # an intact chain: its last entry, where the next incremental verification starts
    through_seq: int = 0
    through_hash: str | None = None
    full: bool = True
