"""Institution directory and fee schedule: writes are audited and published to the outbox."""
import uuid
from datetime import date

from sqlmodel import Session, col, or_, select

from registry import journal, regions
from registry.db_types import utcnow
from registry.errors import Conflict, Invalid, NotFound
from registry.institutions.models import (
    Institution, InstitutionCreate, InstitutionType, InstitutionUpdate, ServiceItem, ServiceItemCreate,
)
from registry.security.auth import Principal


def get_institution(session: Session, *, institution_id: uuid.UUID) -> Institution:
    """The institution, or NotFound naming the field."""
    institution = session.get(Institution, institution_id)
    if institution is None:
        raise NotFound("institution_id", f"institution {institution_id} not found")
    return institution


def require_type(institution: Institution, *, allowed: frozenset[InstitutionType], field: str, purpose: str) -> None:
    """Refuse an institution of a type that cannot do the work (e.g. a cemetery cannot cremate)."""
    if institution.type not in allowed:
        kinds = ", ".join(sorted(t.value for t in allowed))
        raise Invalid(field, "institution_type", f"{purpose} needs an institution of type {kinds}; "
                                                 f"{institution.id} is a {institution.type.value}")


def list_institutions(session: Session, *, type: InstitutionType | None = None, region_code: str | None = None,
                      q: str | None = None, offset: int = 0, limit: int = 100) -> list[Institution]:
    """The public directory, filtered."""
    query = select(Institution)
    if type:
        query = query.where(Institution.type == type)
    if region_code:
        query = query.where(col(Institution.region_code).startswith(region_code.rstrip("0") or region_code))
    if q:
        query = query.where(or_(col(Institution.name).contains(q), col(Institution.address).contains(q)))
    return list(session.exec(query.order_by(col(Institution.region_code), col(Institution.name))
                             .offset(offset).limit(limit)))


def create_institution(session: Session, *, principal: Principal, province_code: str,
                       data: InstitutionCreate) -> Institution:
    """Add an institution of this province; its credit code must be new."""
    head = journal.begin(session)
    if not regions.in_province(data.region_code, province_code):
        raise Invalid("region_code", "region_in_province",
                      f"{data.region_code} is not inside this province ({province_code})")
    existing = session.exec(select(Institution).where(Institution.credit_code == data.credit_code)).first()
    if existing:
        raise Conflict("credit_code", "unique", f"credit code already registered to institution {existing.id}",
                       existing_id=str(existing.id))
    institution = Institution.model_validate(data)
    session.add(institution)
    payload = institution.model_dump(mode="json")
    journal.written(session, head, actor=principal.subject, action="institution.create", object_type="institution",
                    object_id=institution.id, event_type="institution.created", payload=payload)
    session.commit()
    return institution


def update_institution(session: Session, *, principal: Principal, institution_id: uuid.UUID,
                       data: InstitutionUpdate) -> Institution:
    """Change directory details; the audit entry names the fields changed."""
    head = journal.begin(session)
    institution = get_institution(session, institution_id=institution_id)
    changes = data.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(institution, name, value)
    institution.updated_at = utcnow()
    session.add(institution)
    journal.written(session, head, actor=principal.subject, action="institution.update", object_type="institution",
                    object_id=institution.id, event_type="institution.updated",
                    payload=institution.model_dump(mode="json"), detail={"fields": sorted(changes)})
    session.commit()
    return institution


def list_service_items(session: Session, *, institution_id: uuid.UUID, on: date | None = None) -> list[ServiceItem]:
    """The published fee schedule; with `on`, only items in force that day."""
    get_institution(session, institution_id=institution_id)
    query = select(ServiceItem).where(ServiceItem.institution_id == institution_id)
    if on:
        query = query.where(ServiceItem.effective_from <= on,
                            or_(col(ServiceItem.effective_to).is_(None), col(ServiceItem.effective_to) >= on))
    return list(session.exec(query.order_by(col(ServiceItem.category), col(ServiceItem.name))))


def add_service_item(session: Session, *, principal: Principal, institution_id: uuid.UUID,
                     data: ServiceItemCreate) -> ServiceItem:
    """Publish a service item and its fee for an institution."""
    head = journal.begin(session)
    get_institution(session, institution_id=institution_id)
    item = ServiceItem.model_validate(data, update={"institution_id": institution_id})
    session.add(item)
    journal.written(session, head, actor=principal.subject, action="service_item.create", object_type="service_item",
                    object_id=item.id, event_type="service_item.published", payload=item.model_dump(mode="json"))
    session.commit()
    return item
