"""What an institution discloses to the public beyond its directory entry and fees (殡葬服务信息公开): opening
hours, its service commitments (服务承诺), and where to complain (监督投诉电话, the responsible civil-affairs
bureau). One record per institution, set by the province's admins."""
import uuid
from datetime import datetime

from pydantic import ConfigDict, field_validator
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, utcnow
from registry.validators import Name, Phone, ShortText, text

MAX_COMMITMENTS = 20
Commitment = text(200)


class DisclosureSet(SQLModel):
    """The whole disclosure, replacing what was there: an absent field is cleared."""
    model_config = ConfigDict(extra="forbid")

    opening_hours: ShortText | None = None
    commitments: list[Commitment] = Field(default_factory=list, max_length=MAX_COMMITMENTS)
    supervising_authority: Name | None = None
    complaint_phone: Phone | None = None

    @field_validator("commitments")
    @classmethod
    def _one_line_each(cls, commitments: list[str]) -> list[str]:
        # stored one per line: a promise that spans lines would come back as two
        return [" ".join(commitment.split()) for commitment in commitments]


class InstitutionDisclosure(SQLModel, table=True):
    __tablename__ = "institution_disclosures"

    institution_id: uuid.UUID = Field(foreign_key="institutions.id", primary_key=True)
    opening_hours: str | None = Field(default=None, max_length=200)
    # one promise per line, shown as a list (e.g. 24小时接运遗体)
    commitments: str | None = Field(default=None, max_length=MAX_COMMITMENTS * 201)
    supervising_authority: str | None = Field(default=None, max_length=100)
    complaint_phone: str | None = Field(default=None, max_length=20)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DisclosurePublic(SQLModel):
    institution_id: uuid.UUID
    opening_hours: str | None
    commitments: list[str]
    supervising_authority: str | None
    complaint_phone: str | None
    updated_at: ChinaTime | None

    @classmethod
    def of(cls, institution_id: uuid.UUID, stored: InstitutionDisclosure | None) -> "DisclosurePublic":
        """What the public reads; an institution that disclosed nothing yet has empty fields."""
        if stored is None:
            return cls(institution_id=institution_id, opening_hours=None, commitments=[],
                       supervising_authority=None, complaint_phone=None, updated_at=None)
        return cls(institution_id=institution_id, opening_hours=stored.opening_hours,
                   commitments=stored.commitments.splitlines() if stored.commitments else [],
                   supervising_authority=stored.supervising_authority, complaint_phone=stored.complaint_phone,
                   updated_at=stored.updated_at)
