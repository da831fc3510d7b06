"""Online payment (网上缴费) of booked services: one payment order per booking, the notices the provider sent, and
the daily reconciliations with the provider's statement. Amounts are integer fen (分), never floats."""
import re
import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict, model_validator
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, new_id, today_in_china, utcnow
from registry.validators import Day, rule_error, text

SITE_PATH = re.compile(r"/(?!/)[A-Za-z0-9/_.~%?=&-]*")  # no scheme, no host, no "//": this site only


class OrderStatus(StrEnum):
    created = "created"  # sent to the provider, waiting for the payer
    paid = "paid"
    refund_requested = "refund_requested"  # the booking was cancelled: the provider is refunding
    refunded = "refunded"
    closed = "closed"  # expired unpaid


class PaymentState(StrEnum):
    """What a booking's payment shows: an order's status, or why there is none."""
    free = "free"  # 基本殡葬服务减免: never charged
    unpriced = "unpriced"  # the booked service has no published fee: nothing to pay online
    unpaid = "unpaid"  # no order yet
    created = "created"
    paid = "paid"
    refund_requested = "refund_requested"
    refunded = "refunded"
    closed = "closed"


class Difference(StrEnum):
    """What a reconciliation finds for one order."""
    matched = "matched"
    missing_at_provider = "missing_at_provider"  # paid here, absent from the provider's statement
    missing_locally = "missing_locally"  # paid at the provider, not paid here
    amount_mismatch = "amount_mismatch"


class PaymentOrder(SQLModel, table=True):
    __tablename__ = "payment_orders"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    order_no: str = Field(max_length=32, unique=True)
    booking_id: uuid.UUID = Field(foreign_key="bookings.id", unique=True)
    institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    owner_subject: str = Field(max_length=255, index=True)
    amount_fen: int
    status: str = Field(max_length=20, index=True)
    pay_url: str = Field(max_length=500)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    transaction_id: str | None = Field(default=None, max_length=64)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    refund_no: str | None = Field(default=None, max_length=32, unique=True)
    refunded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaymentNotice(SQLModel, table=True):
    """Every verified notice the provider sent: its nonce is never accepted twice (replay), its id marks a
    repeated delivery of the same event, which changes nothing."""
    __tablename__ = "payment_notices"

    nonce: str = Field(max_length=64, primary_key=True)
    notice_id: str = Field(max_length=64, index=True)
    order_no: str = Field(max_length=32)
    kind: str = Field(max_length=30)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Reconciliation(SQLModel, table=True):
    __tablename__ = "payment_reconciliations"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    day: date = Field(index=True)
    matched: int
    missing_at_provider: int
    missing_locally: int
    amount_mismatch: int
    repaired: int  # orders paid at the provider whose notice was lost, made paid here
    closed: int  # orders that expired unpaid, closed
    # per order: its number and what was found (no personal data)
    findings: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    ran_by: str = Field(max_length=255)
    ran_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PaymentStart(SQLModel):
    model_config = ConfigDict(extra="forbid")

    # where the provider sends the payer back: a path of this site (e.g. /beijing/my/bookings), never another site
    return_path: text(300)

    @model_validator(mode="after")
    def _own_site(self):
        if not SITE_PATH.fullmatch(self.return_path):
            raise rule_error("return_path", "site_path", "a path of this site, starting with one /")
        return self


class PaymentPublic(SQLModel):
    booking_id: uuid.UUID
    state: PaymentState
    amount_fen: int | None  # 0 when free by policy; None when the service has no published fee
    order_no: str | None = None
    pay_url: str | None = None  # only while the order waits for the payer
    paid_at: ChinaTime | None = None
    refunded_at: ChinaTime | None = None


class OrderPublic(SQLModel):
    """An order as the province's staff see it: no one's name."""
    id: uuid.UUID
    order_no: str
    booking_id: uuid.UUID
    institution_id: uuid.UUID
    amount_fen: int
    status: OrderStatus
    transaction_id: str | None
    paid_at: ChinaTime | None
    refunded_at: ChinaTime | None
    expires_at: ChinaTime
    updated_at: ChinaTime


class OrdersPublic(SQLModel):
    data: list[OrderPublic]
    count: int


class ReconciliationRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")

    day: Day  # China time

    @model_validator(mode="after")
    def _past(self):
        if self.day > today_in_china():  # the provider has no statement of a day to come
            raise rule_error("day", "not_future", "the day must not be in the future")
        return self


class ReconciliationPublic(SQLModel):
    id: uuid.UUID
    day: date
    matched: int
    missing_at_provider: int
    missing_locally: int
    amount_mismatch: int
    repaired: int
    closed: int
    findings: list[dict]
    ran_at: ChinaTime


class ReconciliationsPublic(SQLModel):
    data: list[ReconciliationPublic]
    count: int
