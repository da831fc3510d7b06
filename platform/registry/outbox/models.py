"""Outbox: events for the ministry exchange and department connectors, numbered per tenant."""
import uuid

from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, new_id


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_events"

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
