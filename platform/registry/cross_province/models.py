"""A pair as the province holds it: its own case, the other province's case, and the reviewer's finding."""
import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from registry.cases.models import CaseStatus
from registry.db_types import ChinaTime, UTCDateTime
from registry.validators import prose

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_NOTE = 500


class Finding(StrEnum):
    same_person = "same_person"  # one person registered twice: one province corrects or cancels its case
    different_people = "different_people"  # the blind index matched two people (a wrong ID number somewhere)


class CrossProvinceMatch(SQLModel, table=True):
    __tablename__ = "cross_province_matches"

    # the ministry's match number: the province asks for the pairs after the highest it holds
    match_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    # no foreign key: a pair may name a case of the province's database before it was provisioned anew
    case_id: uuid.UUID = Field(index=True)
    other_province: str = Field(max_length=32)
    other_province_code: str = Field(max_length=6)
    other_case_id: uuid.UUID
    found_at: datetime = Field(sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)
    finding: str | None = Field(default=None, max_length=20, index=True)
    # the reviewer's words may name people: stored encrypted like every free text with personal data
    finding_note_encrypted: str | None = Field(default=None, max_length=4000)
    found_by: str | None = Field(default=None, max_length=255)
    settled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MatchCase(BaseModel):
    """The province's own case, as a reviewer sees it in a list (masked number)."""

    id: uuid.UUID
    status: CaseStatus
    deceased_name: str
    id_number: str | None
    death_at: ChinaTime
    institution_id: uuid.UUID


class CrossProvinceMatchPublic(BaseModel):
    match_id: int
    case_id: uuid.UUID
    case: MatchCase | None = PydanticField(description="the case, or null when this database does not hold it")
    other_province: str
    other_province_code: str
    other_case_id: uuid.UUID
    found_at: ChinaTime
    received_at: ChinaTime
    finding: Finding | None
    finding_note: str | None
    found_by: str | None
    settled_at: ChinaTime | None


class CrossProvinceMatchesPublic(BaseModel):
    data: list[CrossProvinceMatchPublic]
    count: int = PydanticField(description="how many pairs match the filter, over all pages")


class MatchSettlement(BaseModel):
    """What the reviewer found when checking the two cases (with the other province)."""
    model_config = ConfigDict(extra="forbid")

    finding: Finding
    note: prose(MAX_NOTE) | None = None
