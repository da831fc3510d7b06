"""The national basic funeral database (国家基础殡葬信息数据库): current records built from the provinces' events.

The event log (`national_events`) stays the evidence; these tables are its current state, one row per case of
each province, kept up to date in the transaction that stores a batch. The ministry holds no ID numbers and no
names here: a person is `person_ref`, the provinces' shared blind index.
"""
import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as Check
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime
from registry.institutions.models import InstitutionStatus, InstitutionType
from registry.validators import Day, rule_error

PERSON_REF_PATTERN = r"^[0-9a-f]{64}$"
PROVINCE_PATTERN = r"^[a-z][a-z0-9-]{1,30}$"


# on PostgreSQL national_cases is partitioned by hash of the province (migration 0023) into this many partitions
NATIONAL_CASES_PARTITIONS = 16


def national_cases_partition(remainder: int) -> str:
    return f"national_cases_p{remainder:02d}"


class NationalCase(SQLModel, table=True):
    """A province's case as the ministry knows it now: at its latest correction and status."""

    __tablename__ = "national_cases"

    province_slug: str = Field(primary_key=True, max_length=32)
    case_id: uuid.UUID = Field(primary_key=True)
    # no index on the province's code nor the status: the partitions are the province's, a status picks millions, and
    # every index is one more write per case received
    province_code: str = Field(max_length=6)
    person_ref: str | None = Field(default=None, max_length=64, index=True)
    status: str = Field(max_length=16)
    institution_id: uuid.UUID
    sex: str = Field(max_length=1)
    ethnicity: str = Field(max_length=2)
    id_type: str = Field(max_length=32)
    birth_date: date
    household_region: str = Field(max_length=6, index=True)
    death_at: datetime = Field(sa_type=UTCDateTime, index=True)
    death_place_type: str = Field(max_length=32)
    death_manner: str = Field(max_length=16)
    cause_category: str = Field(max_length=16)
    archive_ref: str | None = Field(default=None, max_length=64)
    archived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # the province's seq of the last event applied: an older or replayed event never overwrites a newer one
    last_seq: int
    updated_at: datetime = Field(sa_type=UTCDateTime)


class PersonMatch(SQLModel, table=True):
    """One person (the same `person_ref`) with cases in two provinces: for the provinces to check."""

    __tablename__ = "national_person_matches"
    __table_args__ = (UniqueConstraint("province_a", "case_a", "province_b", "case_b"),)

    id: int | None = Field(default=None, primary_key=True)
    person_ref: str = Field(max_length=64, index=True)
    province_a: str = Field(max_length=32, index=True)
    case_a: uuid.UUID
    province_b: str = Field(max_length=32, index=True)
    case_b: uuid.UUID
    found_at: datetime = Field(sa_type=UTCDateTime)
    # what each province's reviewers found when they checked it (cross_province_match.settled), once each
    finding_a: str | None = Field(default=None, max_length=20)
    settled_a_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finding_b: str | None = Field(default=None, max_length=20)
    settled_b_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class _ProvinceRecord(SQLModel):
    """What every national record of a province's row carries: whose it is and how current."""

    province_slug: str = Field(primary_key=True, max_length=32)
    # the province's seq of the last event applied: an older or replayed event never overwrites a newer one
    last_seq: int
    updated_at: datetime = Field(sa_type=UTCDateTime)


class NationalCremation(_ProvinceRecord, table=True):
    """A case's cremation, for statistics: where and when; the furnace and its operator stay in the province."""

    __tablename__ = "national_cremations"

    case_id: uuid.UUID = Field(primary_key=True)
    cremation_id: uuid.UUID
    institution_id: uuid.UUID = Field(index=True)
    started_at: datetime = Field(sa_type=UTCDateTime, index=True)
    ended_at: datetime = Field(sa_type=UTCDateTime)


class NationalCertificate(_ProvinceRecord, table=True):
    """A cremation certificate and what became of it: issued, reissued (a successor) or cancelled."""

    __tablename__ = "national_certificates"

    certificate_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    number: str = Field(max_length=32)
    status: str = Field(max_length=16)
    issued_at: datetime = Field(sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    replaces_id: uuid.UUID | None = None


class NationalAshesDestination(_ProvinceRecord, table=True):
    """Where a case's ashes went (the kind counts toward the eco-burial share); no plot, niche or note."""

    __tablename__ = "national_ashes_destinations"

    case_id: uuid.UUID = Field(primary_key=True)
    destination_id: uuid.UUID
    destination: str = Field(max_length=32, index=True)
    institution_id: uuid.UUID | None = Field(default=None, index=True)
    recorded_at: datetime = Field(sa_type=UTCDateTime)


class NationalInterment(_ProvinceRecord, table=True):
    """A burial or placement: its kind, the cemetery or columbarium and when; no plot or niche."""

    __tablename__ = "national_interments"

    interment_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    kind: str = Field(max_length=16)
    remains_form: str = Field(max_length=16)
    institution_id: uuid.UUID = Field(index=True)
    interred_at: datetime = Field(sa_type=UTCDateTime)


class NationalInstitution(_ProvinceRecord, table=True):
    """A province's institution as its public directory shows it, with what it discloses (殡葬服务信息公开)."""

    __tablename__ = "national_institutions"

    institution_id: uuid.UUID = Field(primary_key=True)
    province_code: str = Field(max_length=6, index=True)
    name: str = Field(max_length=100, index=True)
    # plain text, as the province sent it (its payload is checked against the enums when projected)
    type: str = Field(max_length=32, index=True)
    credit_code: str = Field(max_length=18)
    region_code: str = Field(max_length=6, index=True)
    address: str = Field(max_length=200)
    contact_name: str | None = Field(default=None, max_length=100)
    contact_phone: str | None = Field(default=None, max_length=20)
    licence_no: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=16)
    opening_hours: str | None = Field(default=None, max_length=200)
    # one promise per line, as the province stores them
    commitments: str | None = Field(default=None, max_length=20 * 201)
    supervising_authority: str | None = Field(default=None, max_length=100)
    complaint_phone: str | None = Field(default=None, max_length=20)
    disclosed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NationalServiceItem(_ProvinceRecord, table=True):
    """One price period of an institution's service as the province published it; an ended one keeps its end."""

    __tablename__ = "national_service_items"

    item_id: uuid.UUID = Field(primary_key=True)
    institution_id: uuid.UUID = Field(index=True)
    name: str = Field(max_length=200)
    category: str = Field(max_length=16)
    unit: str = Field(max_length=20)
    price_fen: int
    pricing_basis: str = Field(max_length=32)
    effective_from: date
    effective_to: date | None = None
    description: str | None = Field(default=None, max_length=500)


class NationalCasePublic(BaseModel):
    province_slug: str
    province_code: str
    case_id: uuid.UUID
    person_ref: str | None
    status: str
    institution_id: uuid.UUID
    sex: str
    ethnicity: str
    id_type: str
    birth_date: date
    household_region: str
    death_at: ChinaTime
    death_place_type: str
    death_manner: str
    cause_category: str
    archive_ref: str | None
    archived_at: ChinaTime | None
    updated_at: ChinaTime


class NationalCremationPublic(BaseModel):
    cremation_id: uuid.UUID
    institution_id: uuid.UUID
    started_at: ChinaTime
    ended_at: ChinaTime


class NationalCertificatePublic(BaseModel):
    certificate_id: uuid.UUID
    number: str
    status: str = Check(description="issued, reissued (a successor of a cancelled one) or cancelled")
    issued_at: ChinaTime
    cancelled_at: ChinaTime | None
    replaces_id: uuid.UUID | None


class NationalAshesDestinationPublic(BaseModel):
    destination_id: uuid.UUID
    destination: str
    institution_id: uuid.UUID | None
    recorded_at: ChinaTime


class NationalIntermentPublic(BaseModel):
    interment_id: uuid.UUID
    kind: str
    remains_form: str
    institution_id: uuid.UUID
    interred_at: ChinaTime


class NationalCaseRecordPublic(BaseModel):
    """One province case with what the ministry knows of its cremation, certificates, ashes and interments."""

    case: NationalCasePublic
    cremation: NationalCremationPublic | None
    certificates: list[NationalCertificatePublic] = Check(description="newest first")
    ashes_destination: NationalAshesDestinationPublic | None
    interments: list[NationalIntermentPublic]


class NationalCasesPublic(BaseModel):
    data: list[NationalCasePublic]
    count: int = Check(description="how many records match, over all pages")


class NationalCaseFilters(BaseModel):
    """What a national search may be narrowed by; anything else is refused."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    province: str | None = Check(default=None, pattern=PROVINCE_PATTERN)
    person_ref: str | None = Check(default=None, pattern=PERSON_REF_PATTERN)
    status: str | None = Check(default=None, max_length=16)
    died_from: Day | None = Check(default=None, description="deaths on or after this day (China Standard Time)")
    died_to: Day | None = Check(default=None, description="deaths on or before this day (China Standard Time)")
    offset: int = Check(default=0, ge=0, le=2**31 - 1)
    limit: int = Check(default=100, ge=1, le=500)

    @model_validator(mode="after")
    def _range(self):
        if self.died_from and self.died_to and self.died_from > self.died_to:
            raise rule_error("died_to", "date_order", "died_to is before died_from")
        return self


class PersonMatchPublic(BaseModel):
    person_ref: str
    province_a: str
    case_a: uuid.UUID
    province_b: str
    case_b: uuid.UUID
    found_at: ChinaTime
    finding_a: str | None = Check(default=None, description="what province_a found: same_person or different_people")
    settled_a_at: ChinaTime | None = None
    finding_b: str | None = Check(default=None, description="what province_b found")
    settled_b_at: ChinaTime | None = None


class PersonMatchesPublic(BaseModel):
    data: list[PersonMatchPublic]
    count: int


class NationalInstitutionPublic(BaseModel):
    province_slug: str
    province_code: str
    institution_id: uuid.UUID
    name: str
    type: InstitutionType
    credit_code: str
    region_code: str
    address: str
    contact_name: str | None
    contact_phone: str | None
    licence_no: str | None
    status: InstitutionStatus
    opening_hours: str | None
    commitments: list[str] = Check(description="one promise each")
    supervising_authority: str | None
    complaint_phone: str | None
    disclosed_at: ChinaTime | None
    updated_at: ChinaTime

    @classmethod
    def of(cls, row: NationalInstitution) -> "NationalInstitutionPublic":
        return cls.model_validate({**row.model_dump(), "commitments": (row.commitments or "").splitlines()})


class NationalInstitutionsPublic(BaseModel):
    data: list[NationalInstitutionPublic]
    count: int = Check(description="how many institutions match, over all pages")
    page: int
    page_size: int


INSTITUTIONS_PAGE_SIZE = 20
MAX_QUERY_LENGTH = 50


class NationalInstitutionFilters(BaseModel):
    """The national directory's search: a name or address, narrowed by province, type and region; by pages."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    q: str | None = Check(default=None, max_length=MAX_QUERY_LENGTH, description="part of the name or address")
    province: str | None = Check(default=None, pattern=PROVINCE_PATTERN)
    type: InstitutionType | None = None
    region: str | None = Check(default=None, pattern=r"^\d{6}$",
                               description="a GB/T 2260 code: a province or prefecture code takes in its counties")
    page: int = Check(default=1, ge=1, le=10_000)
