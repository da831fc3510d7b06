"""National event table and per-province cursors (ministry), and the batch that travels between them."""
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime

SLUG_PATTERN = r"^[a-z][a-z0-9-]{1,30}$"
# a province-level GB/T 2260 code: two digits, then four zeros
PROVINCE_CODE_PATTERN = r"^\d{2}0000$"


# a province's incarnation (registry.tenant_status): 32 hex digits
INCARNATION_PATTERN = r"^[0-9a-f]{32}$"


class NationalEvent(SQLModel, table=True):
    """One province's outbox event as the ministry received it; (province, epoch, seq) and event_id are each unique."""

    __tablename__ = "national_events"

    province_slug: str = Field(primary_key=True, max_length=32)
    # a re-provisioned province numbers its outbox from 1 again, in a new epoch; earlier epochs stay as evidence
    epoch: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    province_seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    # the log is read by province and seq, or by event_id: an index on the code or the type is only a write more per event
    province_code: str = Field(max_length=6)
    event_id: uuid.UUID = Field(unique=True)
    event_type: str = Field(max_length=64)
    aggregate_type: str = Field(max_length=64)
    aggregate_id: str = Field(max_length=64)
    payload: str
    occurred_at: ChinaTime = Field(sa_type=UTCDateTime)
    received_at: ChinaTime = Field(sa_type=UTCDateTime)


class ExchangeCursor(SQLModel, table=True):
    """How far the ministry has received one incarnation (epoch) of a province's outbox, with no gap.

    The highest epoch is the current one; an offboarded province's is closed (`closed_at`) and refuses batches.
    """

    __tablename__ = "exchange_cursors"

    province_slug: str = Field(primary_key=True, max_length=32)
    epoch: int = Field(default=1, primary_key=True, sa_column_kwargs={"autoincrement": False})
    province_code: str = Field(max_length=6)
    acknowledged_seq: int = 0
    updated_at: ChinaTime = Field(sa_type=UTCDateTime)
    # the province database's incarnation this epoch belongs to (None: received before incarnations existed)
    incarnation: str | None = Field(default=None, max_length=32)
    closed_at: ChinaTime | None = Field(default=None, sa_type=UTCDateTime)


class BatchEvent(BaseModel):
    """An outbox event on the wire."""

    model_config = ConfigDict(extra="forbid")

    seq: int = PydanticField(ge=1)
    event_id: uuid.UUID
    at: ChinaTime
    event_type: str = PydanticField(min_length=1, max_length=64)
    aggregate_type: str = PydanticField(min_length=1, max_length=64)
    aggregate_id: str = PydanticField(min_length=1, max_length=64)
    payload: dict[str, Any]

    @model_validator(mode="after")
    def _aware(self) -> "BatchEvent":
        if self.at.tzinfo is None:
            raise ValueError("at must carry a timezone")
        return self


class Batch(BaseModel):
    """Consecutive events of one province, first_seq..last_seq, signed as a whole."""

    model_config = ConfigDict(extra="forbid")

    province: str = PydanticField(pattern=SLUG_PATTERN)
    province_code: str = PydanticField(pattern=PROVINCE_CODE_PATTERN)
    first_seq: int = PydanticField(ge=1)
    last_seq: int = PydanticField(ge=1)
    # the sending database's incarnation: a new one opens a new epoch at the ministry (absent from older senders)
    incarnation: str | None = PydanticField(default=None, pattern=INCARNATION_PATTERN)
    events: list[BatchEvent] = PydanticField(min_length=1)

    @model_validator(mode="after")
    def _consecutive(self) -> "Batch":
        seqs = [event.seq for event in self.events]
        if seqs != list(range(self.first_seq, self.last_seq + 1)):
            raise ValueError("events must be numbered first_seq..last_seq, consecutive and in order")
        return self


class BatchAck(BaseModel):
    acknowledged_through: int
    stored: int
    epoch: int


class CursorPublic(SQLModel):
    province_slug: str
    epoch: int
    province_code: str
    acknowledged_seq: int
    updated_at: ChinaTime
    closed_at: ChinaTime | None = None
