"""Satisfaction ratings (满意度评价): after a completed service the family rates it, 1 to 5 with an optional
comment, once per service. The comment may hold personal data, so it is stored encrypted; one the sensitive-word
filter of memorials flags is held for the staff's review instead of being published."""
import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import ConfigDict
from sqlalchemy import CheckConstraint
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, new_id, utcnow
from registry.validators import StrictInt, prose

MAX_COMMENT = 500
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
SCORES = (1, 2, 3, 4, 5)


class ServiceKind(StrEnum):
    """What was rated: the kind of the booked resource (a booking confirmed and ended is a completed service)."""
    farewell_hall = "farewell_hall"
    cremation_slot = "cremation_slot"
    vehicle = "vehicle"


class CommentStatus(StrEnum):
    published = "published"
    held = "held"  # the word filter found a listed word: waits for the staff's review
    rejected = "rejected"


class RatingCreate(SQLModel):
    model_config = ConfigDict(extra="forbid")

    score: StrictInt = Field(ge=1, le=5)
    comment: prose(MAX_COMMENT) | None = None


class Rating(SQLModel, table=True):
    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="ck_ratings_score"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    # unique: one rating per service, kept by the database whatever races
    booking_id: uuid.UUID = Field(foreign_key="bookings.id", unique=True)
    institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    service_kind: str = Field(max_length=20)
    owner_subject: str = Field(max_length=255, index=True)
    score: int
    comment_encrypted: str | None = Field(default=None, max_length=4000)
    comment_status: str | None = Field(default=None, max_length=10)
    # the filter's words found in the comment, for the reviewer (comma-separated)
    flagged: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RatingPublic(SQLModel):
    """A rating as its author and the institution's staff see it."""
    id: uuid.UUID
    booking_id: uuid.UUID
    institution_id: uuid.UUID
    service_kind: ServiceKind
    score: int
    comment: str | None
    comment_status: CommentStatus | None
    created_at: ChinaTime


class RatingForStaff(RatingPublic):
    booking_number: str
    flagged: str | None


class RatingsPublic(SQLModel):
    data: list[RatingForStaff]
    count: int


class OwnRatings(SQLModel):
    data: list[RatingPublic]


class InstitutionRatings(SQLModel):
    institution_id: uuid.UUID
    count: int
    mean: float  # rounded to two places
    distribution: dict[int, int]  # score -> how many, every score from 1 to 5 listed


class RatingsSummary(SQLModel):
    year: int | None
    data: list[InstitutionRatings]
