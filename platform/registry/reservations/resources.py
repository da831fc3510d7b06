"""Bookable resources: published and edited by the institution's staff, read by anyone."""
import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import case, update
from sqlmodel import Session, col, select

from registry.cases.access import check_institution_binding, require_active_institution
from registry.context import TenantContext
from registry.db_types import CHINA_TZ, utcnow
from registry.errors import Invalid, NotFound
from registry.institutions.models import ServiceCategory, ServiceItem
from registry.institutions.service import get_institution
from registry.reservations import slots
from registry.reservations.models import (
    Resource,
    ResourceCreate,
    ResourceFields,
    ResourcePublic,
    ResourcesPublic,
    Slot,
    SlotPublic,
    SlotsPublic,
)
from registry.security.auth import Principal


def public(resource: Resource) -> ResourcePublic:
    return ResourcePublic.model_validate(resource, from_attributes=True)


def get_resource(session: Session, resource_id: uuid.UUID) -> Resource:
    resource = session.get(Resource, resource_id)
    if resource is None:
        raise NotFound("resource_id", f"resource {resource_id} not found")
    return resource


def list_resources(session: Session, *, institution_id: uuid.UUID, with_closed: bool = False) -> ResourcesPublic:
    """The institution's resources by kind and name; the public sees the open ones."""
    get_institution(session, institution_id=institution_id)
    query = select(Resource).where(Resource.institution_id == institution_id)
    if not with_closed:
        query = query.where(Resource.status == "open")
    rows = session.exec(query.order_by(Resource.kind, Resource.name)).all()
    return ResourcesPublic(data=[public(row) for row in rows], count=len(rows))


def free_slots(session: Session, *, resource_id: uuid.UUID, on: date, now: datetime | None = None) -> SlotsPublic:
    """Each slot of the day with its free places (none listed for a closed resource or outside its window)."""
    now = now or utcnow()
    resource = get_resource(session, resource_id)
    today = now.astimezone(CHINA_TZ).date()
    if resource.status != "open" or not today <= on <= today + timedelta(days=resource.advance_days):
        return SlotsPublic(resource_id=resource.id, data=[])
    length = timedelta(minutes=resource.slot_minutes)
    return SlotsPublic(resource_id=resource.id, data=[
        SlotPublic(starts_at=start, ends_at=start + length, capacity=resource.capacity, free=free)
        for start, free in slots.free_places(session, resource, on, now=now)])


def _check_fee(session: Session, institution_id: uuid.UUID, fields: ResourceFields, stored: Resource | None) -> None:
    """The fee item is the institution's own; only a basic service (基本殡葬服务) can be free by policy."""
    item_id = fields.service_item_id if "service_item_id" in fields.model_fields_set else (
        stored.service_item_id if stored else None)
    free = fields.free_by_policy if fields.free_by_policy is not None else bool(stored and stored.free_by_policy)
    item = session.get(ServiceItem, item_id) if item_id else None
    if item_id is not None and (item is None or item.institution_id != institution_id):
        raise Invalid("service_item_id", "service_item_of_institution", "not a published fee of this institution")
    if free and (item is None or item.category != ServiceCategory.basic):
        raise Invalid("free_by_policy", "free_basic_only", "only a basic funeral service can be free by policy")


def _staff_write(session: Session, principal: Principal, institution_id: uuid.UUID) -> None:
    check_institution_binding(principal, institution_id)
    require_active_institution(session, principal)


def create_resource(session: Session, *, ctx: TenantContext, principal: Principal, institution_id: uuid.UUID,
                    data: ResourceCreate) -> ResourcePublic:
    with ctx.journal.write(session, actor=principal.subject) as unit:
        _staff_write(session, principal, institution_id)
        get_institution(session, institution_id=institution_id)
        _check_fee(session, institution_id, data, None)
        resource = Resource(institution_id=institution_id, **data.model_dump())
        session.add(resource)
        session.flush()
        result = public(resource)
        unit.record(action="resource.create", object_type="bookable_resource", object_id=resource.id,
                    event_type="resource.published", payload=result.model_dump(mode="json"))
    return result


def update_resource(session: Session, *, ctx: TenantContext, principal: Principal, resource_id: uuid.UUID,
                    data: ResourceFields) -> ResourcePublic:
    """Change what is named; a closed resource takes no new bookings, those made stay. A new capacity applies to
    the slots to come, never below the places already taken."""
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        raise Invalid("body", "nothing_to_change", "name at least one field to change")
    for name, value in changes.items():
        if value is None and name != "service_item_id":  # only the fee item can be taken away
            raise Invalid(name, "missing", f"{name} cannot be cleared")
    with ctx.journal.write(session, actor=principal.subject) as unit:
        resource = get_resource(session, resource_id)
        _staff_write(session, principal, resource.institution_id)
        _check_fee(session, resource.institution_id, data, resource)
        for name, value in changes.items():
            setattr(resource, name, value)
        if resource.closes_at <= resource.opens_at:  # the hours as they will stand, one of them unchanged
            raise Invalid("closes_at", "date_order", "closes_at must be after opens_at")
        resource.updated_at = utcnow()
        session.add(resource)
        if "capacity" in changes:
            session.execute(update(Slot).where(col(Slot.resource_id) == resource.id, col(Slot.starts_at) > utcnow())
                            .values(capacity=case((col(Slot.taken) > resource.capacity, col(Slot.taken)),
                                                  else_=resource.capacity)))
        session.flush()
        result = public(resource)
        unit.record(action="resource.update", object_type="bookable_resource", object_id=resource.id,
                    event_type="resource.changed", payload=result.model_dump(mode="json"),
                    detail={"fields": sorted(changes)})
    return result

