"""Institution directory and fee schedule: writes are audited and published to the outbox."""
import uuid
from datetime import date, timedelta

from sqlmodel import Session, col, func, or_, select

from registry import regions
from registry.context import TenantContext
from registry.db_types import today_in_china, utcnow
from registry.errors import Conflict, Invalid, NotFound
from registry.institutions.models import (
    Institution,
    InstitutionCreate,
    InstitutionStatus,
    InstitutionType,
    InstitutionUpdate,
    ServiceItem,
    ServiceItemCreate,
    ServiceItemEnd,
    ServiceItemPublic,
)
from registry.journal import Write
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


def list_institutions(session: Session, *, type: InstitutionType | None = None, status: InstitutionStatus | None = None,
                      region_code: str | None = None, q: str | None = None, offset: int = 0,
                      limit: int = 100) -> list[Institution]:
    """The public directory, filtered."""
    query = _directory(select(Institution), type=type, status=status, region_code=region_code, q=q)
    return list(session.exec(query.order_by(col(Institution.region_code), col(Institution.name))
                             .offset(offset).limit(limit)))


def count_institutions(session: Session, *, type: InstitutionType | None = None,
                       status: InstitutionStatus | None = None, region_code: str | None = None,
                       q: str | None = None) -> int:
    """How many institutions `list_institutions` finds over all its pages."""
    return session.exec(_directory(select(func.count()).select_from(Institution), type=type, status=status,
                                   region_code=region_code, q=q)).one()


def _directory(query, *, type: InstitutionType | None, status: InstitutionStatus | None, region_code: str | None,
               q: str | None):
    if type:
        query = query.where(Institution.type == type)
    if status:
        query = query.where(Institution.status == status)
    if region_code:
        query = query.where(col(Institution.region_code).startswith(region_code.rstrip("0") or region_code))
    if q:
        query = query.where(or_(col(Institution.name).contains(q), col(Institution.address).contains(q)))
    return query


def create_institution(session: Session, *, ctx: TenantContext, principal: Principal,
                       data: InstitutionCreate) -> Institution:
    """Add an institution of this province; its credit code must be new."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        if not regions.in_province(data.region_code, ctx.settings.tenant_code):
            raise Invalid("region_code", "region_in_province",
                          f"{data.region_code} is not inside this province ({ctx.settings.tenant_code})")
        existing = session.exec(select(Institution).where(Institution.credit_code == data.credit_code)).first()
        if existing:
            raise Conflict("credit_code", "unique", f"credit code already registered to institution {existing.id}",
                           existing_id=str(existing.id))
        institution = Institution.model_validate(data)
        session.add(institution)
        payload = institution.model_dump(mode="json")
        unit.record(action="institution.create", object_type="institution",
                        object_id=institution.id, event_type="institution.created", payload=payload)
    return institution


def update_institution(session: Session, *, ctx: TenantContext, principal: Principal, institution_id: uuid.UUID,
                       data: InstitutionUpdate) -> Institution:
    """Change directory details; the audit entry names the fields changed."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        institution = get_institution(session, institution_id=institution_id)
        changes = data.model_dump(exclude_unset=True)
        for name, value in changes.items():
            setattr(institution, name, value)
        institution.updated_at = utcnow()
        session.add(institution)
        unit.record(action="institution.update", object_type="institution",
                        object_id=institution.id, event_type="institution.updated",
                        payload=institution.model_dump(mode="json"), detail={"fields": sorted(changes)})
    return institution


def list_service_items(session: Session, *, institution_id: uuid.UUID, on: date | None = None,
                       history: bool = False) -> list[ServiceItem]:
    """The published fee schedule: the prices in force today and those announced for later; with `on`, those
    in force that day; with `history`, every price ever published, ended ones too."""
    get_institution(session, institution_id=institution_id)
    if on and history:
        raise Invalid("history", "exclusive", "ask for the prices of one day (on) or for the history, not both")
    query = select(ServiceItem).where(ServiceItem.institution_id == institution_id)
    if on:
        query = query.where(ServiceItem.effective_from <= on, _in_force_on_or_after(on))
    elif not history:
        query = query.where(_in_force_on_or_after(today_in_china()))
    return list(session.exec(query.order_by(col(ServiceItem.category), col(ServiceItem.name),
                                            col(ServiceItem.effective_from))))


def _in_force_on_or_after(day: date):
    return or_(col(ServiceItem.effective_to).is_(None), col(ServiceItem.effective_to) >= day)


def add_service_item(session: Session, *, ctx: TenantContext, principal: Principal, institution_id: uuid.UUID,
                     data: ServiceItemCreate) -> ServiceItem:
    """Publish a price of a service from `effective_from` on; the price in force until then ends the day before.

    A service (the institution's item of that name) has one price on any day, and a published day is never
    rewritten: once a service has a price, a new one starts today (China Standard Time) or later. Only a
    service's first price may start earlier, recording what the institution already charged.
    """
    # the unit's write head serialises the fee writers: the periods checked below stay as read
    with ctx.journal.write(session, actor=principal.subject) as unit:
        get_institution(session, institution_id=institution_id)
        periods = list(session.exec(select(ServiceItem).where(ServiceItem.institution_id == institution_id,
                                                              ServiceItem.name == data.name)))
        today = today_in_china()
        if periods and data.effective_from < today:
            raise Invalid("effective_from", "not_retroactive",
                          f"{data.name} already has a price: a new one starts today ({today}) or later")
        superseded = next((p for p in periods if p.effective_to is None and p.effective_from < data.effective_from),
                          None)
        for period in periods:
            if period is not superseded and _overlaps(period, data.effective_from, data.effective_to):
                raise Conflict("effective_from", "price_overlap",
                               f"{data.name} already has price {period.id} in force {_span(period)}",
                               existing_id=str(period.id))
        item = ServiceItem.model_validate(data, update={"institution_id": institution_id})
        if superseded:
            _end_price(session, unit, item=superseded,
                       last_day=data.effective_from - timedelta(days=1), detail={"superseded_by": str(item.id)})
        session.add(item)
        unit.record(action="service_item.create", object_type="service_item",
                        object_id=item.id, event_type="service_item.published", payload=_published(item))
    return item


def end_service_item(session: Session, *, ctx: TenantContext, principal: Principal, institution_id: uuid.UUID, item_id: uuid.UUID,
                     data: ServiceItemEnd) -> ServiceItem:
    """End a price on `effective_to` (its last day): yesterday at the earliest, so no published day changes."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        item = session.get(ServiceItem, item_id)
        if item is None or item.institution_id != institution_id:
            raise NotFound("item_id", f"service item {item_id} not found at institution {institution_id}")
        last_day, today = data.effective_to, today_in_china()
        if last_day < item.effective_from:
            raise Invalid("effective_to", "date_order", f"price {item.id} starts on {item.effective_from}, after "
                                                        f"{last_day}")
        if last_day < today - timedelta(days=1):
            raise Invalid("effective_to", "not_retroactive",
                          f"a price ends yesterday ({today - timedelta(days=1)}) at the earliest")
        if item.effective_to is not None and last_day >= item.effective_to:
            raise Conflict("effective_to", "already_ended", f"price {item.id} already ends on {item.effective_to}",
                           existing_id=str(item.id))
        _end_price(session, unit, item=item, last_day=last_day, detail=None)
    return item


def _end_price(session: Session, unit: Write, *, item: ServiceItem, last_day: date, detail: dict | None) -> None:
    item.effective_to = last_day
    session.add(item)
    session.flush()  # the open price is closed before a new one of the same service is inserted
    unit.record(action="service_item.end", object_type="service_item", object_id=item.id,
                event_type="service_item.ended", payload=_published(item), detail=detail)


def _overlaps(period: ServiceItem, start: date, end: date | None) -> bool:
    return (period.effective_to is None or period.effective_to >= start) and (end is None or
                                                                              period.effective_from <= end)


def _span(period: ServiceItem) -> str:
    return f"from {period.effective_from}" + (f" to {period.effective_to}" if period.effective_to else " on")


def _published(item: ServiceItem) -> dict:
    # the event carries the item as the public schedule shows it
    return ServiceItemPublic.model_validate(item).model_dump(mode="json")
