"""Funeral-service institutions (殡葬服务机构) and their published service items and fees."""
import uuid
from datetime import date
from enum import StrEnum

from pydantic import ConfigDict, model_validator
from sqlalchemy import CheckConstraint, Index
from sqlalchemy import text as sql
from sqlmodel import Field, SQLModel

from registry.db_types import ChinaTime, UTCDateTime, new_id, utcnow
from registry.validators import CreditCode, Day, Name, Phone, RegionCode, ShortText, StrictInt, rule_error, text


class InstitutionType(StrEnum):
    funeral_home = "funeral_home"  # 殡仪馆
    crematorium = "crematorium"  # 火葬场
    commercial_cemetery = "commercial_cemetery"  # 经营性公墓
    public_cemetery = "public_cemetery"  # 公益性公墓
    columbarium = "columbarium"  # 骨灰堂
    service_station = "service_station"  # 殡仪服务站


CREMATING_TYPES = frozenset({InstitutionType.funeral_home, InstitutionType.crematorium})


class InstitutionStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    closed = "closed"


class InstitutionBase(SQLModel):
    name: Name
    type: InstitutionType
    credit_code: CreditCode = Field(index=True, unique=True, max_length=18)
    region_code: RegionCode = Field(max_length=6, index=True)
    address: ShortText
    contact_name: Name | None = None
    contact_phone: Phone | None = None
    licence_no: text(64) | None = Field(default=None, max_length=64)
    status: InstitutionStatus = InstitutionStatus.active


class InstitutionCreate(InstitutionBase):
    model_config = ConfigDict(extra="forbid")


class InstitutionUpdate(SQLModel):
    """Only the fields named here change; a field it does not know is refused, not ignored."""
    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    address: ShortText | None = None
    contact_name: Name | None = None
    contact_phone: Phone | None = None
    licence_no: text(64) | None = Field(default=None, max_length=64)
    status: InstitutionStatus | None = None

    @model_validator(mode="after")
    def _no_null_for_required(self):
        # absent means unchanged; null would clear a field every institution has
        for name in ("name", "address", "status"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise rule_error(name, "missing", f"{name} cannot be cleared")
        return self


class Institution(InstitutionBase, table=True):
    __tablename__ = "institutions"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    created_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InstitutionPublic(InstitutionBase):
    id: uuid.UUID
    created_at: ChinaTime
    updated_at: ChinaTime


class InstitutionsPublic(SQLModel):
    data: list[InstitutionPublic]
    count: int


class ServiceCategory(StrEnum):
    basic = "basic"  # 基本殡葬服务: government-priced, often subsidised
    optional = "optional"  # 选择性服务


class PricingBasis(StrEnum):
    government_set = "government_set"  # 政府定价
    government_guided = "government_guided"  # 政府指导价
    market = "market"  # 市场调节价


class ServiceItemBase(SQLModel):
    name: ShortText
    category: ServiceCategory
    unit: text(20) = Field(max_length=20)
    price_fen: StrictInt = Field(ge=0, le=100_000_000)
    pricing_basis: PricingBasis
    effective_from: date
    effective_to: date | None = None
    description: text(500, multiline=True) | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _rules(self):
        if self.category == ServiceCategory.basic and self.pricing_basis == PricingBasis.market:
            raise rule_error("pricing_basis", "basic_service_pricing",
                             "basic services are government-set or government-guided, never market-priced")
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise rule_error("effective_to", "date_order", "effective_to must not be before effective_from")
        return self


class ServiceItemCreate(ServiceItemBase):
    model_config = ConfigDict(extra="forbid")


# the price in force until further notice: at most one per service of an institution
_OPEN = sql("effective_to IS NULL")


class ServiceItem(ServiceItemBase, table=True):
    """One price period of a service (an institution's item of that name): periods of a service never overlap."""

    __tablename__ = "service_items"
    __table_args__ = (
        CheckConstraint("effective_to IS NULL OR effective_to >= effective_from", name="ck_service_items_date_order"),
        Index("uq_service_items_open_price", "institution_id", "name", unique=True,
              sqlite_where=_OPEN, postgresql_where=_OPEN),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    institution_id: uuid.UUID = Field(foreign_key="institutions.id", index=True)
    created_at: ChinaTime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ServiceItemEnd(SQLModel):
    """The last day a price is in force."""

    effective_to: Day


class ServiceItemPublic(ServiceItemBase):
    id: uuid.UUID
    institution_id: uuid.UUID
    created_at: ChinaTime


class ServiceItemsPublic(SQLModel):
    data: list[ServiceItemPublic]
    count: int
