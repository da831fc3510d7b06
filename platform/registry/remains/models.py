"""Remains and ashes (遗体与骨灰): transport, storage, the ashes destination and interment of a case."""
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

import sqlalchemy as sa
from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, model_validator
from pydantic import Field as Check
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, new_id, utcnow
from registry.institutions.models import InstitutionType
from registry.validators import EventTime, ShortText, rule_error, text

# GA 36 plates: province abbreviation, issuing-office letter, 5 characters (6 for new-energy vehicles)
PROVINCE_ABBREVIATIONS = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
VehiclePlate = Annotated[
    str,
    StringConstraints(pattern=rf"^[{PROVINCE_ABBREVIATIONS}][A-Z][A-HJ-NP-Z0-9]{{4,5}}[A-HJ-NP-Z0-9挂学警]$"),
    # normalised before the pattern is checked (StringConstraints checks the pattern before it upper-cases)
    BeforeValidator(lambda value: value.strip().upper() if isinstance(value, str) else value),
]
Place = text(50)
Note = text(500, multiline=True)

CEMETERY_TYPES = frozenset({InstitutionType.commercial_cemetery, InstitutionType.public_cemetery})


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---- 遗体接运: remains transport

TRANSPORT_TYPES = frozenset({InstitutionType.funeral_home, InstitutionType.service_station})


class TransportCreate(_Input):
    institution_id: uuid.UUID
    from_address: ShortText
    to_address: ShortText
    vehicle_plate: VehiclePlate
    departed_at: EventTime
    arrived_at: EventTime

    @model_validator(mode="after")
    def _rules(self):
        if self.arrived_at < self.departed_at:
            raise rule_error("arrived_at", "date_order", "arrived_at must not be before departed_at")
        return self


class Transport(SQLModel, table=True):
    __tablename__ = "remains_transports"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)
    institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    from_address: str = Field(max_length=200)
    to_address: str = Field(max_length=200)
    vehicle_plate: str = Field(max_length=10)
    departed_at: ChinaTime = Field(sa_type=UTCDateTime)
    arrived_at: ChinaTime = Field(sa_type=UTCDateTime)
    created_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TransportPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    institution_id: uuid.UUID
    from_address: str
    to_address: str
    vehicle_plate: str
    departed_at: ChinaTime
    arrived_at: ChinaTime
    created_at: ChinaTime


class TransportsPublic(BaseModel):
    data: list[TransportPublic]
    count: int


# ---- 遗体存放: remains storage

STORAGE_TYPES = frozenset({InstitutionType.funeral_home})


class StorageCreate(_Input):
    institution_id: uuid.UUID
    cabinet_no: str = Check(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9-]+$")
    stored_at: EventTime


class StorageRelease(_Input):
    released_at: EventTime


class Storage(SQLModel, table=True):
    __tablename__ = "remains_storages"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", index=True)
    institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    cabinet_no: str = Field(max_length=20)
    stored_at: ChinaTime = Field(sa_type=UTCDateTime)
    released_at: ChinaTime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StoragePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    institution_id: uuid.UUID
    cabinet_no: str
    stored_at: ChinaTime
    released_at: ChinaTime | None
    created_at: ChinaTime


class StoragesPublic(BaseModel):
    data: list[StoragePublic]
    count: int


# ---- 骨灰去向: where the ashes go

class AshesDestinationKind(StrEnum):
    sea_scattering = "sea_scattering"  # 海撒
    river_scattering = "river_scattering"  # 江河撒散
    degradable_burial = "degradable_burial"  # 可降解容器深埋
    commercial_cemetery = "commercial_cemetery"  # 经营性公墓
    public_cemetery = "public_cemetery"  # 公益性公墓
    columbarium = "columbarium"  # 骨灰堂
    kept_at_home = "kept_at_home"  # 家中存放
    returned_to_hometown = "returned_to_hometown"  # 回原籍
    other = "other"


# destinations that are a place run by an institution, and the institution types that can receive the ashes there
RECEIVING_TYPES: dict[AshesDestinationKind, frozenset[InstitutionType]] = {
    AshesDestinationKind.commercial_cemetery: frozenset({InstitutionType.commercial_cemetery}),
    AshesDestinationKind.public_cemetery: frozenset({InstitutionType.public_cemetery}),
    AshesDestinationKind.columbarium: frozenset({InstitutionType.columbarium}) | CEMETERY_TYPES,
}


class AshesDestinationCreate(_Input):
    destination: AshesDestinationKind
    institution_id: uuid.UUID | None = None
    plot_or_niche: Place | None = None
    note: Note | None = None

    @model_validator(mode="after")
    def _rules(self):
        kind = self.destination.value
        if self.destination in RECEIVING_TYPES:
            if self.institution_id is None:
                raise rule_error("institution_id", "missing", f"institution_id is required for destination {kind}")
            if self.plot_or_niche is None:
                raise rule_error("plot_or_niche", "missing", f"plot_or_niche is required for destination {kind}")
        elif self.plot_or_niche is not None:
            raise rule_error("plot_or_niche", "not_applicable", f"destination {kind} has no plot or niche")
        if self.destination == AshesDestinationKind.other and self.note is None:
            raise rule_error("note", "missing", "note is required for destination other")
        return self


class AshesDestination(SQLModel, table=True):
    __tablename__ = "ashes_destinations"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", unique=True, index=True)
    destination: AshesDestinationKind
    institution_id: uuid.UUID | None = Field(default=None, foreign_key="institutions.id", index=True)
    plot_or_niche: str | None = Field(default=None, max_length=50)
    note: str | None = Field(default=None, max_length=500)
    recorded_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AshesDestinationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    destination: AshesDestinationKind
    institution_id: uuid.UUID | None
    plot_or_niche: str | None
    note: str | None
    recorded_at: ChinaTime


# ---- 骨灰移交: the hand-over of the ashes to the institution receiving them

class Handover(SQLModel, table=True):
    """Written with an ashes destination that names a receiving cemetery or columbarium other than the case's
    institution: that institution's registrars may then read this case and record its interment, nothing else."""
    __tablename__ = "case_handovers"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", unique=True, index=True)  # one ashes destination per case
    ashes_destination_id: uuid.UUID = Field(foreign_key="ashes_destinations.id", unique=True)
    from_institution_id: uuid.UUID = Field(foreign_key="institutions.id")
    to_institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    handed_over_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HandoverPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    ashes_destination_id: uuid.UUID
    from_institution_id: uuid.UUID
    to_institution_id: uuid.UUID
    handed_over_at: ChinaTime


# ---- 安葬 / 安放: interment

class IntermentKind(StrEnum):
    burial = "burial"  # 安葬: in a grave
    placement = "placement"  # 安放: in a niche


class RemainsForm(StrEnum):
    ashes = "ashes"
    body = "body"  # 遗体安葬, only where the law permits burial


INTERMENT_TYPES: dict[IntermentKind, frozenset[InstitutionType]] = {
    IntermentKind.burial: CEMETERY_TYPES,
    IntermentKind.placement: frozenset({InstitutionType.columbarium}) | CEMETERY_TYPES,
}


class IntermentCreate(_Input):
    kind: IntermentKind
    remains_form: RemainsForm
    institution_id: uuid.UUID
    plot_or_niche: Place
    interred_at: EventTime

    @model_validator(mode="after")
    def _rules(self):
        if self.kind == IntermentKind.placement and self.remains_form == RemainsForm.body:
            raise rule_error("remains_form", "placement_of_ashes", "only ashes are placed in a niche; bury a body")
        return self


class Interment(SQLModel, table=True):
    __tablename__ = "interments"
    # the database itself keeps one interment per case and one case per plot or niche, whatever races above it
    __table_args__ = (sa.Index("uq_interments_plot", "institution_id", "plot_or_niche", unique=True),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.id", unique=True, index=True)
    kind: IntermentKind
    remains_form: RemainsForm
    institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    plot_or_niche: str = Field(max_length=50)
    interred_at: ChinaTime = Field(sa_type=UTCDateTime)
    created_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class IntermentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    case_id: uuid.UUID
    kind: IntermentKind
    remains_form: RemainsForm
    institution_id: uuid.UUID
    plot_or_niche: str
    interred_at: ChinaTime
    created_at: ChinaTime


class IntermentsPublic(BaseModel):
    data: list[IntermentPublic]
    count: int
