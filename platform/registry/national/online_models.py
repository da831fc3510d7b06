"""The national records of online services (网上办事): one row per approval, booking, complaint, memorial, message,
rating and payment order of each province, as its latest event left it, and the counters kept from them at ingest.

Nothing personal: kinds, statuses, institutions and the moments things happened (the provinces' events carry no
names, phones or texts; registry.national.online_services takes only these fields of them).
"""
import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from registry.db_types import UTCDateTime
from registry.national.models import _ProvinceRecord


class NationalOnlineItem(_ProvinceRecord, table=True):
    """One item of an online service as the ministry knows it now. `opened_at` is when it was submitted (booked,
    received, created, posted, rated); `status_at` when it reached its status; the other moments stay once set, so
    a booking confirmed and later cancelled counts in both months."""

    __tablename__ = "national_online_items"

    service: str = Field(primary_key=True, max_length=16)  # approval, booking, complaint, memorial, ...
    item_id: uuid.UUID = Field(primary_key=True)
    institution_id: uuid.UUID | None = Field(default=None, index=True)  # None: approvals and memorials
    kind: str = Field(default="", max_length=32)  # approval kind, resource kind, complaint category, ...
    status: str = Field(default="", max_length=16)
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    late_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # a step taken past its legal time limit
    due_on: date | None = None  # an open approval's deadline (China date)
    upheld: bool | None = None
    score: int | None = None
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # a payment order's moment of payment
    amount_fen: int | None = Field(default=None, sa_type=BigInteger)  # a payment order's amount


class NationalOnlineCount(SQLModel, table=True):
    """One counter: how many items of `service` reached `measure` (submitted, confirmed, upheld, ...) in a month,
    at one institution ('' for items of none) and of one kind; `score` counts the sum of ratings' scores, `paid_fen`
    and `refunded_fen` the sums of payment orders' amounts."""

    __tablename__ = "national_online_counts"
    __table_args__ = (Index("ix_national_online_counts_question", "year", "province_slug", "month"),)

    province_slug: str = Field(primary_key=True, max_length=32)
    institution: str = Field(primary_key=True, max_length=32)  # the institution's id as hex, or ''
    year: int = Field(primary_key=True)
    month: int = Field(primary_key=True)
    service: str = Field(primary_key=True, max_length=16)
    measure: str = Field(primary_key=True, max_length=16)
    kind: str = Field(primary_key=True, default="", max_length=32)
    count: int = Field(default=0, sa_type=BigInteger)  # amounts in fen are summed here too
