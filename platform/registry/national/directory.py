"""The national directory of institutions: each province's public entries, fees and disclosures, kept current
from its `institution.*`, `service_item.*` and `institution_disclosure.published` events, and searched across
provinces. Everything here is public at the province already; nothing of a case."""
import uuid
from collections.abc import Callable
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from registry.exchange.models import BatchEvent, ExchangeCursor
from registry.institutions.models import InstitutionStatus, InstitutionType, PricingBasis, ServiceCategory
from registry.national import loaded
from registry.national.models import (
    INSTITUTIONS_PAGE_SIZE,
    NationalInstitution,
    NationalInstitutionFilters,
    NationalServiceItem,
)
from registry.national.records import upsert


class _Institution(BaseModel):
    """An institution event's payload: the whole directory entry."""
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    name: str
    type: InstitutionType
    credit_code: str
    region_code: str
    address: str
    contact_name: str | None = None
    contact_phone: str | None = None
    licence_no: str | None = None
    status: InstitutionStatus


class _ServiceItem(BaseModel):
    """A fee event's payload: the price period as the province's public schedule shows it."""
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    institution_id: uuid.UUID
    name: str
    category: ServiceCategory
    unit: str
    price_fen: int
    pricing_basis: PricingBasis
    effective_from: date
    effective_to: date | None = None
    description: str | None = None


class _Disclosure(BaseModel):
    model_config = ConfigDict(extra="ignore")

    institution_id: uuid.UUID
    opening_hours: str | None = None
    commitments: list[str]
    supervising_authority: str | None = None
    complaint_phone: str | None = None
    updated_at: datetime | None = None


def _institution(session: Session, province: str, province_code: str, event: BatchEvent, now: datetime) -> None:
    entry = _Institution.model_validate(event.payload)
    upsert(session, NationalInstitution, province=province, key={"institution_id": entry.id},
           values={"province_code": province_code, **entry.model_dump(exclude={"id"}, mode="json")},
           seq=event.seq, now=now)


def _service_item(session: Session, province: str, province_code: str, event: BatchEvent, now: datetime) -> None:
    item = _ServiceItem.model_validate(event.payload)
    upsert(session, NationalServiceItem, province=province, key={"item_id": item.id},
           values=item.model_dump(exclude={"id"}), seq=event.seq, now=now)


def _disclosure(session: Session, province: str, province_code: str, event: BatchEvent, now: datetime) -> None:
    """The disclosure joins its institution's entry (which the province always sends first)."""
    disclosed = _Disclosure.model_validate(event.payload)
    entry = loaded.find(session, NationalInstitution, (province, disclosed.institution_id))
    if entry is None or entry.last_seq >= event.seq:
        return
    entry.opening_hours, entry.supervising_authority = disclosed.opening_hours, disclosed.supervising_authority
    entry.commitments = "\n".join(disclosed.commitments) or None
    entry.complaint_phone, entry.disclosed_at = disclosed.complaint_phone, disclosed.updated_at
    entry.last_seq, entry.updated_at = event.seq, now
    loaded.changed(session, entry)


# the tables these events set
MODELS = (NationalInstitution, NationalServiceItem)

APPLY: dict[str, Callable[[Session, str, str, BatchEvent, datetime], None]] = {
    "institution.created": _institution,
    "institution.updated": _institution,
    "service_item.published": _service_item,
    "service_item.ended": _service_item,
    "institution_disclosure.published": _disclosure,
}


def find_institutions(session: Session, filters: NationalInstitutionFilters, *,
                      page_size: int = INSTITUTIONS_PAGE_SIZE) -> tuple[list[NationalInstitution], int]:
    """One page of the institutions matching `filters` (by province, region, then name) and how many match."""
    query = select(NationalInstitution)
    if filters.province:
        query = query.where(NationalInstitution.province_slug == filters.province)
    if filters.type:
        query = query.where(NationalInstitution.type == filters.type.value)
    if filters.region:
        # a province or prefecture code takes in every county under it, as the provinces' own directories do
        query = query.where(col(NationalInstitution.region_code).startswith(filters.region.rstrip("0") or filters.region))
    if filters.q:
        query = query.where(or_(col(NationalInstitution.name).contains(filters.q),
                                col(NationalInstitution.address).contains(filters.q)))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(NationalInstitution.province_code), col(NationalInstitution.region_code),
                                       col(NationalInstitution.name), col(NationalInstitution.institution_id))
                        .offset((filters.page - 1) * page_size).limit(page_size)).all()
    return list(rows), total


def get_institution(session: Session, *, province: str, institution_id: uuid.UUID) -> NationalInstitution | None:
    return session.get(NationalInstitution, (province, institution_id))


def fees_on(session: Session, *, province: str, institution_id: uuid.UUID, day: date) -> list[NationalServiceItem]:
    """The prices of the institution in force on `day`, as the province published them."""
    return list(session.exec(select(NationalServiceItem).where(
        NationalServiceItem.province_slug == province, NationalServiceItem.institution_id == institution_id,
        NationalServiceItem.effective_from <= day,
        or_(col(NationalServiceItem.effective_to).is_(None), col(NationalServiceItem.effective_to) >= day),
    ).order_by(col(NationalServiceItem.category), col(NationalServiceItem.name))))


def provinces(session: Session) -> list[tuple[str, str]]:
    """(slug, province code) of every province that has shipped to the ministry, by code."""
    return [(slug, code) for slug, code in session.exec(select(ExchangeCursor.province_slug, ExchangeCursor.province_code)
                                                        .order_by(col(ExchangeCursor.province_code)))]


def regions(session: Session) -> list[str]:
    """The region codes where the national directory has an institution, for a region filter."""
    return sorted(session.exec(select(NationalInstitution.region_code).distinct()))
