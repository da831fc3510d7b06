"""Online memorials (网上祭扫), after MZ/T 173-2021: a page for one deceased person, created by the family with
their consent recorded, public or shown only to those given its invitation code; visitors leave messages and
offerings, published at once unless the word filter holds them for the staff's review. Removed by the family,
a page answers 410 Gone and its data stays for the retention period."""
import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import ConfigDict, model_validator
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, new_id, utcnow
from registry.validators import Day, Name, prose, text

MAX_BIOGRAPHY = 2000
MAX_MESSAGE = 500
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# messages shown on a page: the newest; older ones stay stored
SHOWN_MESSAGES = 50


class MemorialVisibility(StrEnum):
    public = "public"  # listed and readable by anyone
    invitation = "invitation"  # readable with the invitation code only, never listed


class MemorialStatus(StrEnum):
    active = "active"
    removed = "removed"


class MemorialRelation(StrEnum):
    """Who consents for the family (近亲属), in the order of the Civil Code's next of kin."""
    spouse = "spouse"
    child = "child"
    parent = "parent"
    sibling = "sibling"
    grandchild = "grandchild"
    grandparent = "grandparent"
    other_relative = "other_relative"


class MemorialOffering(StrEnum):
    flowers = "flowers"  # 献花
    candle = "candle"  # 点烛
    incense = "incense"  # 敬香
    wreath = "wreath"  # 花圈
    fruit = "fruit"  # 果品


class MemorialMessageStatus(StrEnum):
    published = "published"
    pending = "pending"  # held by the word filter for review
    rejected = "rejected"
    removed = "removed"  # by the family


class Decision(StrEnum):
    approve = "approve"
    reject = "reject"


class MemorialCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")

    deceased_name: Name
    birth_date: Day | None = None
    death_date: Day
    biography: prose(MAX_BIOGRAPHY) | None = None
    visibility: MemorialVisibility = MemorialVisibility.public
    # the family's consent (MZ/T 173: created by or with the consent of the next of kin)
    consented_by: Name
    relation: MemorialRelation
    consent: bool

    @model_validator(mode="after")
    def _dates_in_order(self) -> "MemorialCreate":
        if self.birth_date is not None and self.birth_date > self.death_date:
            from pydantic_core import PydanticCustomError
            raise PydanticCustomError("date_order", "the date of birth is after the date of death")
        return self


class Memorial(SQLModel, table=True):
    __tablename__ = "memorials"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    owner_subject: str = Field(max_length=255, index=True)
    deceased_name: str = Field(max_length=100, index=True)
    birth_date: date | None = None
    death_date: date
    biography: str | None = Field(default=None, max_length=MAX_BIOGRAPHY)
    visibility: MemorialVisibility = Field(max_length=12)
    invitation_code_digest: str | None = Field(default=None, max_length=64)
    consented_by_encrypted: str = Field(max_length=400)
    relation: MemorialRelation = Field(max_length=16)
    consented_at: datetime = Field(sa_type=UTCDateTime)
    status: MemorialStatus = Field(default=MemorialStatus.active, max_length=10)
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # moves whenever what the page shows changes (a message published or removed): the page's ETag
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MemorialMessage(SQLModel, table=True):
    __tablename__ = "memorial_messages"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    memorial_id: uuid.UUID = Field(foreign_key="memorials.id", index=True)
    author_name: str | None = Field(default=None, max_length=40)
    text: str | None = Field(default=None, max_length=MAX_MESSAGE)
    offering: MemorialOffering | None = Field(default=None, max_length=10)
    status: MemorialMessageStatus = Field(max_length=10, index=True)
    # the filter's words found in it, for the reviewer (comma-separated)
    flagged: str | None = Field(default=None, max_length=200)
    author_subject: str | None = Field(default=None, max_length=255)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MemorialPublic(SQLModel):
    id: uuid.UUID
    deceased_name: str
    birth_date: date | None
    death_date: date
    biography: str | None
    visibility: MemorialVisibility
    created_at: ChinaTime
    updated_at: ChinaTime


class MemorialOwned(MemorialPublic):
    """What the family sees of its own page."""
    relation: MemorialRelation
    consented_at: ChinaTime
    status: MemorialStatus
    removed_at: ChinaTime | None


class MemorialCreated(MemorialOwned):
    # invitation-only pages: shown once, here; the registry keeps only its digest
    invitation_code: str | None


class MemorialsPublic(SQLModel):
    data: list[MemorialPublic]
    count: int


class MessageCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")

    author_name: text(40) | None = None
    text: prose(MAX_MESSAGE) | None = None
    offering: MemorialOffering | None = None

    @model_validator(mode="after")
    def _something_left(self) -> "MessageCreate":
        if self.text is None and self.offering is None:
            from pydantic_core import PydanticCustomError
            raise PydanticCustomError("message_or_offering", "write a message, choose an offering, or both")
        return self


class MessagePublic(SQLModel):
    id: uuid.UUID
    author_name: str | None
    text: str | None
    offering: MemorialOffering | None
    status: MemorialMessageStatus
    created_at: ChinaTime


class MessageForReview(MessagePublic):
    memorial_id: uuid.UUID
    deceased_name: str
    flagged: str | None


class MessagesForReview(SQLModel):
    data: list[MessageForReview]
    count: int


class MemorialPage(SQLModel):
    """A memorial as visitors see it: the page, the newest published messages and the offerings counted."""
    memorial: MemorialPublic
    messages: list[MessagePublic]
    offerings: dict[MemorialOffering, int]


class MemorialOwnedPage(SQLModel):
    """The family's view of its own page: the messages still up (published or held for review), newest first."""
    memorial: MemorialOwned
    messages: list[MessagePublic]


class Review(SQLModel):
    model_config = ConfigDict(extra="forbid")

    decision: Decision
