"""The deceased and the funeral case (逝者与业务): what is accepted, stored and shown are separate classes."""
import uuid
from datetime import UTC, date, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, model_validator
from pydantic import Field as Check
from pydantic_core import PydanticCustomError
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, new_id, utcnow
from registry.reference.ethnicities import ETHNICITIES
from registry.validators import (
    BirthDate,
    Day,
    EventTime,
    Name,
    Phone,
    RegionCode,
    StrictInt,
    resident_id,
    rule_error,
    text,
)


class Sex(StrEnum):
    """GB/T 2261.1 codes."""
    unknown = "0"
    male = "1"
    female = "2"
    unspecified = "9"


class IdType(StrEnum):
    resident_id = "resident_id"  # 居民身份证, GB 11643
    passport = "passport"
    hk_macao_permit = "hk_macao_permit"
    taiwan_permit = "taiwan_permit"
    foreign_permanent_residence = "foreign_permanent_residence"
    none = "none"  # identity unknown (无名尸): no number


def checked_id_number(id_type: IdType, id_number: str | None) -> str | None:
    """The ID number as stored: none without a type, required with one, a resident ID checked and upper-cased."""
    if id_type == IdType.none:
        if id_number:
            raise rule_error("id_number", "id_number_absent", "id_number must be empty when id_type is none")
        return id_number
    if not id_number:
        raise rule_error("id_number", "missing", f"id_number is required for id_type {id_type.value}")
    if id_type != IdType.resident_id:
        return id_number
    try:
        return resident_id(id_number.upper())
    except PydanticCustomError as exc:
        raise rule_error("id_number", exc.type, exc.message()) from None


class DeathPlaceType(StrEnum):
    hospital = "hospital"
    home = "home"
    care_institution = "care_institution"
    public_place = "public_place"
    other = "other"


class DeathManner(StrEnum):
    normal = "normal"
    abnormal = "abnormal"


class CauseCategory(StrEnum):
    disease = "disease"
    accident = "accident"
    suicide = "suicide"
    homicide = "homicide"
    undetermined = "undetermined"
    other = "other"


class CaseStatus(StrEnum):
    declared = "declared"
    registered = "registered"
    cremated = "cremated"
    buried = "buried"
    closed = "closed"


def _ethnicity(value: str) -> str:
    if value not in ETHNICITIES:
        raise PydanticCustomError("ethnicity_code", "{code} is not a GB/T 3304 ethnicity code", {"code": value})
    return value


Ethnicity = Annotated[str, AfterValidator(_ethnicity)]


class Informant(BaseModel):
    """The handler (经办人) who declares the death on the family's behalf."""
    model_config = ConfigDict(extra="forbid")

    name: Name
    relation: text(20)
    phone: Phone


class InformantPublic(BaseModel):
    name: str
    relation: str
    phone: str  # masked


class CaseFacts(BaseModel):
    """Everything about the deceased and the death that a declaration states and a correction may change."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    deceased_name: Name
    sex: Sex
    ethnicity: Ethnicity
    id_type: IdType
    id_number: text(40, min_length=0) | None = None
    birth_date: BirthDate
    household_region: RegionCode
    death_at: EventTime  # not in the future: a client clock a few minutes ahead is tolerated
    death_place_type: DeathPlaceType
    death_manner: DeathManner
    cause_category: CauseCategory
    death_certificate_no: str | None = Check(default=None, min_length=4, max_length=32,
                                             pattern=r"^[A-Za-z0-9-]+$")
    informant: Informant

    @model_validator(mode="after")
    def _rules(self):
        self.id_number = checked_id_number(self.id_type, self.id_number)
        if self.id_type == IdType.resident_id and self.id_number[6:14] != self.birth_date.strftime("%Y%m%d"):
            raise rule_error("birth_date", "id_birth_date", "birth_date differs from the one in the ID number")
        if self.birth_date > self.death_at.astimezone(UTC).date() + timedelta(days=1):
            raise rule_error("birth_date", "date_order", "birth_date is after death_at")
        return self


class CaseCreate(CaseFacts):
    institution_id: uuid.UUID


# an archive's own record number: letters, digits and . _ / - (e.g. BJ-HZ-2012/000318)
ARCHIVE_REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$"
MAX_IMPORT_RECORDS = 100


class ArchivedCase(CaseCreate):
    """A case from a paper or legacy archive (历史数据补录): its facts, its institution and its record number."""
    archive_ref: str = Check(pattern=ARCHIVE_REF_PATTERN)


class ArchiveImport(BaseModel):
    """Up to MAX_IMPORT_RECORDS archived cases; each is checked and answered on its own."""
    model_config = ConfigDict(extra="forbid")

    records: list[dict] = Check(min_length=1, max_length=MAX_IMPORT_RECORDS)


class ImportOutcome(StrEnum):
    created = "created"
    already_present = "already_present"  # the same archive record, imported before: nothing changes
    refused = "refused"
    valid = "valid"  # a dry run: it would be created


class ArchiveRecordResult(BaseModel):
    index: int  # position in `records`
    archive_ref: str | None
    outcome: ImportOutcome
    case_id: uuid.UUID | None = None
    errors: list[dict] = []


class ArchiveImportResult(BaseModel):
    dry_run: bool
    created: int
    already_present: int
    refused: int
    results: list[ArchiveRecordResult]


MAX_BULK_RECORDS = 2000


class BulkImport(BaseModel):
    """Up to MAX_BULK_RECORDS archived cases of a backfill, checked one by one and written set-wise."""
    model_config = ConfigDict(extra="forbid")

    records: list[dict] = Check(min_length=1, max_length=MAX_BULK_RECORDS)


class BulkImportResult(BaseModel):
    """The counts of a bulk batch; only the refused records are listed (by position in `records`)."""
    dry_run: bool
    created: int  # a dry run: would be created
    already_present: int
    refused: int
    rejects: list[ArchiveRecordResult]


class ImportProof(BaseModel):
    """What the audit trail proves of a backfilled case: the batch entry naming it and the hash of its facts."""
    case_id: uuid.UUID
    archive_ref: str
    audit_seq: int
    imported_by: str
    imported_at: ChinaTime
    record_hash: str
    entry_intact: bool  # the entry still hashes to its link in the chain and carries the audit key's seal
    unchanged: bool  # the case's stored facts still hash to what the entry recorded (a correction changes them)


class CaseCorrectionRequest(BaseModel):
    """Change declared facts; every correction states why (更正原因)."""
    model_config = ConfigDict(extra="forbid")

    changes: dict[str, object] = Check(min_length=1)
    reason: text(500, min_length=2, multiline=True)


class Case(SQLModel, table=True):
    __tablename__ = "cases"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    status: CaseStatus = Field(default=CaseStatus.declared, index=True)
    institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    deceased_name: str = Field(max_length=100, index=True)
    sex: Sex
    ethnicity: str = Field(max_length=2)
    id_type: IdType
    id_number_cipher: str | None = Field(default=None, max_length=200)
    id_number_index: str | None = Field(default=None, max_length=64, unique=True)
    id_number_masked: str | None = Field(default=None, max_length=40)
    birth_date: date = Field(index=True)
    household_region: str = Field(max_length=6)
    death_at: ChinaTime = Field(sa_type=UTCDateTime)
    death_place_type: DeathPlaceType
    death_manner: DeathManner
    cause_category: CauseCategory
    death_certificate_no: str | None = Field(default=None, max_length=32)
    informant_name: str = Field(max_length=100)
    informant_relation: str = Field(max_length=20)
    informant_phone_cipher: str = Field(max_length=200)
    informant_phone_masked: str = Field(max_length=24)
    created_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    archived_at: ChinaTime | None = Field(default=None, sa_type=UTCDateTime)
    # the record number in the paper or legacy archive a backfilled case came from (历史数据补录); None for
    # cases declared here
    archive_ref: str | None = Field(default=None, max_length=64, unique=True)


class CasePublic(BaseModel):
    id: uuid.UUID
    status: CaseStatus
    institution_id: uuid.UUID
    deceased_name: str
    sex: Sex
    ethnicity: str
    id_type: IdType
    id_number: str | None  # masked: 110101********123X
    birth_date: date
    household_region: str
    death_at: ChinaTime
    death_place_type: DeathPlaceType
    death_manner: DeathManner
    cause_category: CauseCategory
    death_certificate_no: str | None
    informant: InformantPublic
    created_at: ChinaTime
    updated_at: ChinaTime
    archived_at: ChinaTime | None
    archive_ref: str | None = None  # a backfilled case's number in its archive

    @classmethod
    def of(cls, case: Case) -> "CasePublic":
        return cls.of_row(case.model_dump())

    @classmethod
    def of_row(cls, row: dict) -> "CasePublic":
        """From the stored columns: masked values only, ciphertexts and the blind index never leave."""
        fields = cls.__pydantic_fields__  # the class's own mapping: `model_fields` costs a lookup per call
        public = {k: v for k, v in row.items() if k in fields}
        return cls(**public, id_number=row["id_number_masked"],
                   informant=InformantPublic(name=row["informant_name"], relation=row["informant_relation"],
                                             phone=row["informant_phone_masked"]))


class CasesPublic(BaseModel):
    data: list[CasePublic]
    count: int = Check(description="how many cases match, over all pages")


MAX_PAGE = 500


class CaseFilters(BaseModel):
    """What a case list may be narrowed by; anything else is refused, never ignored."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: CaseStatus | None = None
    institution_id: uuid.UUID | None = None
    deceased_name: Name | None = None
    died_from: Day | None = Check(default=None, description="deaths on or after this day (China Standard Time)")
    died_to: Day | None = Check(default=None, description="deaths on or before this day (China Standard Time)")
    archive_ref: text(64) | None = None
    offset: int = Check(default=0, ge=0, le=2**31 - 1)
    limit: int = Check(default=100, ge=1, le=MAX_PAGE)

    @model_validator(mode="after")
    def _range(self):
        if self.died_from and self.died_to and self.died_from > self.died_to:
            raise rule_error("died_to", "date_order", "died_to is before died_from")
        return self


class CaseSearch(CaseFilters):
    """A search that may name an ID number: sent in the body, so the number never reaches a URL or access log.
    In a body, numbers are numbers: `"offset": false` is refused, not read as 0."""

    id_number: text(40) | None = None
    offset: StrictInt = Check(default=0, ge=0, le=2**31 - 1)
    limit: StrictInt = Check(default=100, ge=1, le=MAX_PAGE)


class IdNumberDisclosure(BaseModel):
    case_id: uuid.UUID
    id_type: IdType
    id_number: str | None


class CaseCorrection(SQLModel, table=True):
    __tablename__ = "case_corrections"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)
    fields: str = Field(max_length=500)
    reason: str = Field(max_length=500)
    actor: str = Field(max_length=200)
    at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CaseCorrectionPublic(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    fields: list[str]
    reason: str
    actor: str
    at: ChinaTime
