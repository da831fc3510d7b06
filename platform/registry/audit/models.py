"""Audit trail: every write and every refusal, hash-chained with SM3."""
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as Check
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime
from registry.validators import Day, rule_error, text

MAX_CURSOR = 2 ** 53 - 1


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


class AuditFilters(BaseModel):
    """What an auditor narrows the trail by; `newest_first` with `before` pages backwards from the newest entry."""
    model_config = ConfigDict(str_strip_whitespace=True)

    after: int = Check(default=0, ge=0, le=MAX_CURSOR, description="the last seq already read")
    before: int | None = Check(default=None, ge=1, le=MAX_CURSOR, description="entries before this seq only")
    newest_first: bool = False
    limit: int = Check(default=100, ge=1, le=1000)
    result: Literal["ok", "refused"] | None = None
    actor: text(200) | None = None
    action: text(200) | None = None
    object_type: text(64) | None = None
    object_id: text(64) | None = None
    at_from: Day | None = Check(default=None, description="entries on or after this day (China Standard Time)")
    at_to: Day | None = Check(default=None, description="entries on or before this day (China Standard Time)")

    @model_validator(mode="after")
    def _range(self):
        if self.at_from and self.at_to and self.at_from > self.at_to:
            raise rule_error("at_to", "date_order", "at_to is before at_from")
        return self
