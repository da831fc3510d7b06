"""Outbox: events for the ministry exchange and department connectors, numbered per tenant."""
import uuid

from sqlalchemy import Index, text
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, new_id


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_events"
    # the events still to ship, in order: without it, finding the next batch and marking it walk past every event
    # ever shipped (a million-record backfill made each batch cost 0.7 s at its end)
    __table_args__ = (Index("ix_outbox_events_unshipped", "seq", postgresql_where=text("shipped_at IS NULL"),
                            sqlite_where=text("shipped_at IS NULL")),)

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    event_id: uuid.UUID = Field(default_factory=new_id, unique=True)
    at: ChinaTime = Field(sa_type=UTCDateTime)
    event_type: str = Field(max_length=64, index=True)
    aggregate_type: str = Field(max_length=64)
    aggregate_id: str = Field(max_length=64)
    payload: str
    shipped_at: ChinaTime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class OutboxEventPublic(SQLModel):
    seq: int
    event_id: uuid.UUID
    at: ChinaTime
    event_type: str
    aggregate_type: str
    aggregate_id: str
    payload: dict
    shipped_at: ChinaTime | None


class OutboxEventsPublic(SQLModel):
    data: list[OutboxEventPublic]
    count: int
