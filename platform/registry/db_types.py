"""Column types shared by every domain, and the one way the API writes a time."""
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Annotated

from pydantic import SerializerFunctionWrapHandler, WithJsonSchema, WrapSerializer
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

# China Standard Time: Asia/Shanghai has been a fixed +08:00 without summer time since 1991; a fixed offset
# also keeps the 1986-1991 summer times (+09:00) of the tz database out of old records
CHINA_TZ = timezone(timedelta(hours=8), "CST")
CHINA_TIME_DESCRIPTION = "China Standard Time, +08:00"


class UTCDateTime(TypeDecorator):
    """Stores UTC and always returns timezone-aware values, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: times are stored timezone-aware")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def in_china_time(value: datetime) -> datetime:
    """The same instant at +08:00; a naive value is taken as UTC, the way times are stored."""
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(CHINA_TZ)


def china_isoformat(value: datetime) -> str:
    """ISO 8601 at +08:00, for machine data built outside pydantic (exchange batches, department notices)."""
    return in_china_time(value).isoformat()


def _serialize_in_china_time(value: datetime, handler: SerializerFunctionWrapHandler):
    return handler(in_china_time(value))


# every datetime a response (or an outbox payload) carries: written in JSON at +08:00 whatever the stored zone,
# so a write and the reads after it return the identical string
ChinaTime = Annotated[
    datetime,
    WrapSerializer(_serialize_in_china_time, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "description": CHINA_TIME_DESCRIPTION}),
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def today_in_china() -> date:
    """The calendar day in China now: fee periods and other dated rules turn over at midnight +08:00."""
    return datetime.now(CHINA_TZ).date()


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def china_days(column, first: date | None, last: date | None) -> list:
    """Conditions keeping `column` (a stored time) within the days `first`..`last` as people in China count them."""
    conditions = []
    if first is not None:
        conditions.append(column >= datetime.combine(first, time(), tzinfo=CHINA_TZ))
    if last is not None:
        conditions.append(column < datetime.combine(last + timedelta(days=1), time(), tzinfo=CHINA_TZ))
    return conditions
