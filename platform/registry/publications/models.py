"""What a province publishes for the public beside its directory: policies and regulations (政策法规), service
guides (办事指南) and notices (通知公告). Written as drafts by provincial admins, published, edited while
published, and withdrawn (the row stays, with its reason; the public no longer sees it)."""
import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict, model_validator
from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, new_id, utcnow
from registry.validators import Day, Name, ShortText, prose, rule_error, text

# a document and its event fit a request (64 KiB, and so any exchange batch) in any script, 4-byte CJK
# Extension B characters included; a regulation (条例) runs to a few thousand characters
MAX_CONTENT = 10_000
MAX_SUMMARY = 500
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_QUERY = 50


class PublicationCategory(StrEnum):
    policy = "policy"  # 政策法规
    guide = "guide"  # 办事指南
    notice = "notice"  # 通知公告


class PublicationStatus(StrEnum):
    draft = "draft"
    published = "published"
    withdrawn = "withdrawn"


# 文号, e.g. 京民殡发〔2024〕12号
DocumentNumber = text(64)
Content = prose(MAX_CONTENT)
Summary = prose(MAX_SUMMARY)


class PublicationCreate(SQLModel):
    """A new draft: nothing is public until it is published."""
    model_config = ConfigDict(extra="forbid")

    category: PublicationCategory
    title: ShortText
    document_number: DocumentNumber | None = None
    issuing_authority: Name
    content: Content
    summary: Summary | None = None
    effective_date: Day


# what an edit may not clear: a publication always has them
_REQUIRED = ("category", "title", "issuing_authority", "content", "effective_date")


class PublicationUpdate(SQLModel):
    """Only the fields named here change; a field it does not know is refused, not ignored."""
    model_config = ConfigDict(extra="forbid")

    category: PublicationCategory | None = None
    title: ShortText | None = None
    document_number: DocumentNumber | None = None
    issuing_authority: Name | None = None
    content: Content | None = None
    summary: Summary | None = None
    effective_date: Day | None = None

    @model_validator(mode="after")
    def _keeps_what_is_required(self):
        for name in _REQUIRED:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise rule_error(name, "missing", f"{name} cannot be cleared")
        if not self.model_fields_set:
            raise rule_error("body", "nothing_to_change", "name at least one field to change")
        return self


class PublicationWithdraw(SQLModel):
    """Why a published document is taken down (kept with it, and sent to the ministry)."""
    model_config = ConfigDict(extra="forbid")

    reason: text(500, multiline=True)


_PUBLIC_ORDER = ("status", "published_at")


class Publication(SQLModel, table=True):
    __tablename__ = "publications"
    # the public list: published ones, newest first
    __table_args__ = (Index("ix_publications_status_published_at", *_PUBLIC_ORDER),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    category: PublicationCategory = Field(index=True)
    title: str = Field(max_length=200)
    document_number: str | None = Field(default=None, max_length=64)
    issuing_authority: str = Field(max_length=100)
    content: str = Field(max_length=MAX_CONTENT)
    summary: str | None = Field(default=None, max_length=MAX_SUMMARY)
    effective_date: date
    status: PublicationStatus = Field(default=PublicationStatus.draft)
    withdrawal_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    withdrawn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def paragraphs(self) -> list[str]:
        return paragraphs(self.content)


def paragraphs(content: str) -> list[str]:
    """The paragraphs of the content: each non-empty line, trimmed (a blank line between them changes nothing)."""
    return [line.strip() for line in content.split("\n") if line.strip()]


class PublicationPublic(SQLModel):
    id: uuid.UUID
    category: PublicationCategory
    title: str
    document_number: str | None
    issuing_authority: str
    content: str
    summary: str | None
    effective_date: date
    status: PublicationStatus
    withdrawal_reason: str | None
    created_at: ChinaTime
    updated_at: ChinaTime
    published_at: ChinaTime | None
    withdrawn_at: ChinaTime | None


class PublicationsPublic(SQLModel):
    data: list[PublicationPublic]
    count: int = Field(description="how many publications match, over all pages")
