"""Online reservations (网上预约): resources an institution lets the public book, their slots, and the bookings.

A slot is a row per (resource, start) with a counter `taken`: a booking raises it only by a conditional UPDATE
(`taken < capacity`), and a CHECK keeps it within the capacity, so no two writers can overbook a slot on either
backend. A booking holds its place until staff confirm it or the hold runs out (`HOLD`)."""
import uuid
from datetime import datetime, time, timedelta
from enum import StrEnum

from pydantic import ConfigDict, model_validator
from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, new_id, utcnow
from registry.validators import Name, Phone, StrictInt, rule_error, text

# how long a booking keeps its place before staff confirm it
HOLD = timedelta(minutes=30)
MAX_ADVANCE_DAYS = 60
MAX_CAPACITY = 100
ALL_WEEK = "1234567"


class ResourceKind(StrEnum):
    farewell_hall = "farewell_hall"  # 告别厅
    cremation_slot = "cremation_slot"  # 火化时段
    vehicle = "vehicle"  # 殡仪车辆


class ResourceStatus(StrEnum):
    open = "open"
    closed = "closed"  # takes no new bookings; those made stay


class BookingStatus(StrEnum):
    held = "held"  # waits for staff, keeps its place until hold_until
    confirmed = "confirmed"
    cancelled = "cancelled"
    expired = "expired"  # not confirmed in time: its place went back


LIVE = (BookingStatus.held, BookingStatus.confirmed)
Weekdays = text(7)


class ResourceFields(SQLModel):
    """What staff set on a resource; every field optional so an edit names only what changes."""
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    capacity: StrictInt | None = Field(default=None, ge=1, le=MAX_CAPACITY)
    slot_minutes: StrictInt | None = Field(default=None, ge=15, le=480)
    opens_at: time | None = None
    closes_at: time | None = None
    # ISO weekdays it can be booked on, 1 (Monday) to 7: "12345" for working days
    weekdays: Weekdays | None = None
    advance_days: StrictInt | None = Field(default=None, ge=1, le=MAX_ADVANCE_DAYS)
    # the institution's published fee (registry.institutions service item) the booking is for
    service_item_id: uuid.UUID | None = None
    # 基本殡葬服务减免: free by the province's policy, never to be charged
    free_by_policy: bool | None = None
    status: ResourceStatus | None = None

    @model_validator(mode="after")
    def _rules(self):
        if self.weekdays is not None and (not self.weekdays or set(self.weekdays) - set(ALL_WEEK)
                                          or len(set(self.weekdays)) != len(self.weekdays)):
            raise rule_error("weekdays", "weekdays", "weekdays are the digits 1 (Monday) to 7, each once")
        if self.opens_at is not None and self.closes_at is not None and self.closes_at <= self.opens_at:
            raise rule_error("closes_at", "date_order", "closes_at must be after opens_at")
        for name in ("opens_at", "closes_at"):
            value = getattr(self, name)
            if value is not None and (value.tzinfo is not None or value.second or value.microsecond):
                raise rule_error(name, "clock_time", "a time of day in China, hours and minutes only")
        return self


class ResourceCreate(ResourceFields):
    name: Name
    kind: ResourceKind
    capacity: StrictInt = Field(ge=1, le=MAX_CAPACITY)
    slot_minutes: StrictInt = Field(ge=15, le=480)
    opens_at: time
    closes_at: time
    weekdays: Weekdays = ALL_WEEK
    advance_days: StrictInt = Field(default=30, ge=1, le=MAX_ADVANCE_DAYS)
    free_by_policy: bool = False
    status: ResourceStatus = ResourceStatus.open


class Resource(SQLModel, table=True):
    __tablename__ = "bookable_resources"
    __table_args__ = (CheckConstraint("capacity >= 1", name="ck_bookable_resources_capacity"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    kind: str = Field(max_length=20)
    name: str = Field(max_length=100)
    capacity: int
    slot_minutes: int
    opens_at: time
    closes_at: time
    weekdays: str = Field(max_length=7)
    advance_days: int
    service_item_id: uuid.UUID | None = Field(default=None, foreign_key="service_items.id")
    free_by_policy: bool = False
    status: str = Field(max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ResourcePublic(SQLModel):
    id: uuid.UUID
    institution_id: uuid.UUID
    kind: ResourceKind
    name: str
    capacity: int
    slot_minutes: int
    opens_at: time
    closes_at: time
    weekdays: str
    advance_days: int
    service_item_id: uuid.UUID | None
    free_by_policy: bool
    status: ResourceStatus
    updated_at: ChinaTime


class ResourcesPublic(SQLModel):
    data: list[ResourcePublic]
    count: int


class Slot(SQLModel, table=True):
    """The places of one slot of a resource: `taken` counts its live bookings and never passes `capacity`."""
    __tablename__ = "resource_slots"
    __table_args__ = (
        UniqueConstraint("resource_id", "starts_at", name="uq_resource_slots_start"),
        CheckConstraint("taken >= 0 AND taken <= capacity", name="ck_resource_slots_within_capacity"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    resource_id: uuid.UUID = Field(foreign_key="bookable_resources.id", index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime)
    capacity: int
    taken: int = 0


class SlotPublic(SQLModel):
    starts_at: ChinaTime
    ends_at: ChinaTime
    capacity: int
    free: int


class SlotsPublic(SQLModel):
    resource_id: uuid.UUID
    data: list[SlotPublic]


class BookingCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")

    resource_id: uuid.UUID
    starts_at: datetime
    for_name: Name  # who the service is for (the deceased or the family member booking it)
    for_phone: Phone
    case_id: uuid.UUID | None = None  # the case, when the family knows it


class BookingChange(SQLModel):
    model_config = ConfigDict(extra="forbid")

    starts_at: datetime


class BookingCancel(SQLModel):
    model_config = ConfigDict(extra="forbid")

    reason: text(200) | None = None


class Booking(SQLModel, table=True):
    __tablename__ = "bookings"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    number: str = Field(max_length=20, unique=True)
    resource_id: uuid.UUID = Field(foreign_key="bookable_resources.id", index=True)
    institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    slot_id: uuid.UUID = Field(foreign_key="resource_slots.id", index=True)
    starts_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(max_length=10, index=True)
    hold_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    owner_subject: str = Field(max_length=255, index=True)
    for_name_enc: str
    for_name_masked: str = Field(max_length=100)
    for_phone_enc: str
    for_phone_masked: str = Field(max_length=24)
    case_id: uuid.UUID | None = None
    # what payment will charge, as published when booked; nothing when free by policy
    service_item_id: uuid.UUID | None = None
    fee_fen: int | None = None
    free_by_policy: bool = False
    query_code_digest: str = Field(max_length=64, unique=True, index=True)
    cancel_reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BookingPublic(SQLModel):
    """A booking as its owner and the institution's staff see it: the person's name and phone masked."""
    id: uuid.UUID
    number: str
    resource_id: uuid.UUID
    resource_kind: ResourceKind
    institution_id: uuid.UUID
    starts_at: ChinaTime
    ends_at: ChinaTime
    status: BookingStatus
    hold_until: ChinaTime | None
    for_name: str
    for_phone: str
    case_id: uuid.UUID | None
    service_item_id: uuid.UUID | None
    fee_fen: int | None
    free_by_policy: bool
    remote: bool
    cancel_reason: str | None
    updated_at: ChinaTime


class BookingCreated(BookingPublic):
    query_code: str  # shown this once


class BookingsPublic(SQLModel):
    data: list[BookingPublic]
    count: int
