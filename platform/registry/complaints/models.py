"""Complaints against an institution (投诉): what a citizen files, what staff read, and the counts for the
ministry's credit evaluation. The complaint's text, its contact and the answer may name people: stored
encrypted (ctx.encrypt), the contact shown masked, and never in an event."""
import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, new_id, utcnow
from registry.validators import Phone, prose

MAX_TEXT = 2000
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class ComplaintCategory(StrEnum):
    service_quality = "service_quality"  # 服务质量
    attitude = "attitude"  # 服务态度
    pricing = "pricing"  # 收费（价格、乱收费）
    forced_sale = "forced_sale"  # 强制或捆绑消费
    facilities = "facilities"  # 设施环境
    other = "other"


class ComplaintStatus(StrEnum):
    received = "received"  # 已受理, waiting for the province's staff to assign it
    assigned = "assigned"  # with the institution, waiting for its answer
    escalated = "escalated"  # not answered in time: the province's bureau answers it
    answered = "answered"
    closed = "closed"


OPEN = (ComplaintStatus.received, ComplaintStatus.assigned)


class ComplaintCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")

    institution_id: uuid.UUID
    category: ComplaintCategory
    text: prose(MAX_TEXT)
    contact: Phone


class ComplaintAnswer(SQLModel):
    model_config = ConfigDict(extra="forbid")

    answer: prose(MAX_TEXT)


class ComplaintFeedback(SQLModel):
    """The complainant's word on the answer: did it resolve the complaint."""
    model_config = ConfigDict(extra="forbid")

    resolved: bool


class ComplaintClose(SQLModel):
    """Closing records whether the complaint was upheld (属实): what the credit evaluation counts."""
    model_config = ConfigDict(extra="forbid")

    upheld: bool


class Complaint(SQLModel, table=True):
    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_queue", "status", "due_on"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    number: str = Field(max_length=20, unique=True)
    institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    owner_subject: str = Field(max_length=255, index=True)
    query_code_digest: str = Field(max_length=64, unique=True, index=True)
    category: ComplaintCategory = Field(max_length=20)
    text_encrypted: str = Field(max_length=12000)
    contact_encrypted: str = Field(max_length=200)
    contact_masked: str = Field(max_length=24)
    status: ComplaintStatus = Field(default=ComplaintStatus.received, max_length=12)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    due_on: date  # the last day of the answer's time limit, China date
    assigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    escalated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answer_encrypted: str | None = Field(default=None, max_length=12000)
    answered_on_time: bool | None = None
    resolved: bool | None = None  # the complainant's feedback
    upheld: bool | None = None  # staff's finding when closing
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ComplaintPublic(SQLModel):
    """What the complainant and the staff who handle it read; `overdue` as of the time of reading."""
    id: uuid.UUID
    number: str
    institution_id: uuid.UUID
    category: ComplaintCategory
    text: str
    contact: str  # masked
    status: ComplaintStatus
    overdue: bool
    received_at: ChinaTime
    due_on: date
    assigned_at: ChinaTime | None
    escalated_at: ChinaTime | None
    answered_at: ChinaTime | None
    answer: str | None
    answered_on_time: bool | None
    resolved: bool | None
    upheld: bool | None
    closed_at: ChinaTime | None


class ComplaintCreated(ComplaintPublic):
    # shown once, here: the registry keeps only its digest
    query_code: str


class ComplaintsPublic(SQLModel):
    data: list[ComplaintPublic]
    count: int


class InstitutionComplaintCounts(SQLModel):
    """One institution's complaints of a year, for the credit evaluation (信用评价): counts only."""
    institution_id: uuid.UUID
    year: int
    received: int
    upheld: int
    overdue: int
    answered_on_time: int


class ComplaintCountsPublic(SQLModel):
    year: int
    data: list[InstitutionComplaintCounts]


class EscalationSweep(SQLModel):
    escalated: int
