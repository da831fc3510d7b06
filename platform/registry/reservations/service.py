"""Bookings: citizens book, change and cancel their own; the institution's staff confirm or cancel.

Every change of places happens in one unit of write, so a change of slot takes the new place and gives the old
one back together or not at all. Times are taken as `now` so holds running out are tested without waiting."""
import uuid
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from registry import query_codes
from registry.cases.access import check_institution_binding, require_active_institution
from registry.context import TenantContext
from registry.db_types import CHINA_TZ, china_days, today_in_china, utcnow
from registry.errors import Conflict, NotFound
from registry.institutions.models import InstitutionStatus, ServiceItem
from registry.institutions.service import get_institution
from registry.reservations import slots
from registry.reservations.models import (
    HOLD,
    Booking,
    BookingCancel,
    BookingChange,
    BookingCreate,
    BookingCreated,
    BookingPublic,
    BookingsPublic,
    BookingStatus,
    Resource,
)
from registry.reservations.resources import get_resource
from registry.security.auth import Principal
from registry.security.masking import mask_name, mask_phone

BOOKING = "booking"


def public(session: Session, booking: Booking, *, now: datetime | None = None) -> BookingPublic:
    from registry.reservations.farewell import RemoteFarewell  # the farewell builds on bookings

    resource = session.get(Resource, booking.resource_id)
    status = slots.live_status(booking, now or utcnow())
    return BookingPublic(id=booking.id, number=booking.number, resource_id=booking.resource_id,
                         resource_kind=resource.kind, institution_id=booking.institution_id,
                         starts_at=booking.starts_at, ends_at=booking.ends_at, status=status,
                         hold_until=booking.hold_until if status == BookingStatus.held else None,
                         for_name=booking.for_name_masked, for_phone=booking.for_phone_masked, case_id=booking.case_id,
                         service_item_id=booking.service_item_id, fee_fen=booking.fee_fen,
                         free_by_policy=booking.free_by_policy,
                         remote=session.get(RemoteFarewell, booking.id) is not None,
                         cancel_reason=booking.cancel_reason, updated_at=booking.updated_at)


def event(booking: Booking, resource: Resource, **extra) -> dict:
    """What the ministry learns of a booking: no one's name or phone."""
    return {"booking_id": str(booking.id), "institution_id": str(booking.institution_id),
            "resource_id": str(resource.id), "resource_kind": resource.kind, "status": booking.status,
            "starts_at": booking.starts_at.astimezone(CHINA_TZ).isoformat(), **extra}


def _fee(session: Session, resource: Resource) -> tuple[uuid.UUID | None, int | None]:
    """The price of the resource's fee item in force today (the institution's published fee), if it has one."""
    if resource.service_item_id is None:
        return None, None
    named = session.get(ServiceItem, resource.service_item_id)
    today = today_in_china()
    item = session.exec(select(ServiceItem).where(
        ServiceItem.institution_id == resource.institution_id, ServiceItem.name == named.name,
        col(ServiceItem.effective_from) <= today,
        (col(ServiceItem.effective_to).is_(None)) | (col(ServiceItem.effective_to) >= today))).first()
    return (item.id, item.price_fen) if item else (named.id, None)


def own_booking(session: Session, principal: Principal, booking_id: uuid.UUID) -> Booking:
    """The citizen's own booking; anyone else's is not found, exactly like one that does not exist."""
    booking = session.get(Booking, booking_id)
    if booking is None or booking.owner_subject != principal.subject:
        raise NotFound("booking_id", f"booking {booking_id} not found")
    return booking


def staff_booking(session: Session, principal: Principal, booking_id: uuid.UUID) -> Booking:
    """A booking of the staff member's institution (registrars); provincial staff reach every institution's."""
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound("booking_id", f"booking {booking_id} not found")
    check_institution_binding(principal, booking.institution_id, field="booking_id")
    return booking


def book(session: Session, *, ctx: TenantContext, principal: Principal, data: BookingCreate,
         now: datetime | None = None) -> BookingCreated:
    """Hold a place of the slot for the citizen; 409 when the slot is full. The query code is shown this once."""
    now = now or utcnow()
    code = query_codes.new_code()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        resource = get_resource(session, data.resource_id)
        _require_active(session, resource)
        slots.check_bookable(resource, data.starts_at, now=now)
        slot = slots.slot_of(session, resource, data.starts_at)
        _record_expired(unit, session, slots.reclaim(session, slot.id, now=now))
        slots.take(session, slot)
        item_id, fee = _fee(session, resource)
        booking_id = uuid.uuid4()
        booking = Booking(id=booking_id, number=f"YY{booking_id.hex[:10].upper()}", resource_id=resource.id,
                          institution_id=resource.institution_id, slot_id=slot.id, starts_at=slot.starts_at,
                          ends_at=slot.starts_at + timedelta(minutes=resource.slot_minutes),
                          status=BookingStatus.held, hold_until=now + HOLD, owner_subject=principal.subject,
                          for_name_enc=ctx.encrypt("booking.for_name", data.for_name),
                          for_name_masked=mask_name(data.for_name),
                          for_phone_enc=ctx.encrypt("booking.for_phone", data.for_phone),
                          for_phone_masked=mask_phone(data.for_phone), case_id=data.case_id,
                          service_item_id=item_id, fee_fen=fee, free_by_policy=resource.free_by_policy,
                          query_code_digest=query_codes.digest(code), created_at=now, updated_at=now)
        session.add(booking)
        session.flush()
        unit.record(action="booking.hold", object_type=BOOKING, object_id=booking.id, event_type="booking.held",
                    payload=event(booking, resource, hold_until=booking.hold_until.astimezone(CHINA_TZ).isoformat()))
        result = BookingCreated(**public(session, booking, now=now).model_dump(), query_code=code)
    return result


def change(session: Session, *, ctx: TenantContext, principal: Principal, booking_id: uuid.UUID,
           data: BookingChange, now: datetime | None = None) -> BookingPublic:
    """Move a live booking to another slot of the same resource: the new place is taken before the old one is
    given back, in one transaction, so a full slot leaves the booking where it was."""
    now = now or utcnow()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        booking = own_booking(session, principal, booking_id)
        _require_live(booking, now)
        _require_not_started(booking, now)
        resource = get_resource(session, booking.resource_id)
        _require_active(session, resource)
        if data.starts_at == booking.starts_at:
            raise Conflict("starts_at", "same_slot", "the booking is already in this slot")
        slots.check_bookable(resource, data.starts_at, now=now)
        slot = slots.slot_of(session, resource, data.starts_at)
        _record_expired(unit, session, slots.reclaim(session, slot.id, now=now))
        slots.take(session, slot)
        slots.release(session, booking.slot_id)
        was = booking.starts_at
        booking.slot_id, booking.starts_at = slot.id, slot.starts_at
        booking.ends_at = slot.starts_at + timedelta(minutes=resource.slot_minutes)
        if booking.status == BookingStatus.held:  # a fresh hold for the new slot: staff confirm it again
            booking.hold_until = now + HOLD
        booking.updated_at = now
        session.add(booking)
        session.flush()
        unit.record(action="booking.change", object_type=BOOKING, object_id=booking.id, event_type="booking.changed",
                    payload=event(booking, resource, previous_starts_at=was.astimezone(CHINA_TZ).isoformat()))
        result = public(session, booking, now=now)
    return result


def cancel_own(session: Session, *, ctx: TenantContext, principal: Principal, booking_id: uuid.UUID,
               data: BookingCancel, now: datetime | None = None) -> BookingPublic:
    now = now or utcnow()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        booking = own_booking(session, principal, booking_id)
        _require_live(booking, now)
        _require_not_started(booking, now)
        return _cancel(session, ctx, unit, booking, data, now=now, by="owner")


def cancel_by_staff(session: Session, *, ctx: TenantContext, principal: Principal, booking_id: uuid.UUID,
                    data: BookingCancel, now: datetime | None = None) -> BookingPublic:
    with ctx.journal.write(session, actor=principal.subject) as unit:
        booking = staff_booking(session, principal, booking_id)
        require_active_institution(session, principal)
        return _cancel(session, ctx, unit, booking, data, now=now or utcnow(), by="institution")


def _cancel(session: Session, ctx: TenantContext, unit, booking: Booking, data: BookingCancel, *, now: datetime,
            by: str) -> BookingPublic:
    from registry.payments import service as payments  # payments build on bookings
    _require_live(booking, now)
    slots.release(session, booking.slot_id)
    booking.status, booking.hold_until, booking.cancel_reason = BookingStatus.cancelled, None, data.reason
    booking.updated_at = now
    session.add(booking)
    session.flush()
    resource = session.get(Resource, booking.resource_id)
    unit.record(action="booking.cancel", object_type=BOOKING, object_id=booking.id, event_type="booking.cancelled",
                payload=event(booking, resource, cancelled_by=by), detail={"by": by})
    payments.booking_cancelled(session, ctx=ctx, unit=unit, booking=booking, now=now)  # a paid fee is refunded
    return public(session, booking, now=now)


def confirm(session: Session, *, ctx: TenantContext, principal: Principal, booking_id: uuid.UUID,
            now: datetime | None = None) -> BookingPublic:
    """Staff confirm a held booking before its hold runs out; it then keeps its place."""
    now = now or utcnow()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        booking = staff_booking(session, principal, booking_id)
        require_active_institution(session, principal)
        if slots.live_status(booking, now) != BookingStatus.held:
            raise Conflict("booking_id", "booking_status", "only a held booking can be confirmed")
        booking.status, booking.hold_until, booking.updated_at = BookingStatus.confirmed, None, now
        session.add(booking)
        session.flush()
        unit.record(action="booking.confirm", object_type=BOOKING, object_id=booking.id,
                    event_type="booking.confirmed", payload=event(booking, session.get(Resource, booking.resource_id)))
        return public(session, booking, now=now)


def _require_active(session: Session, resource: Resource) -> None:
    """A suspended or closed institution takes no bookings (those made stay, for its staff to settle)."""
    if get_institution(session, institution_id=resource.institution_id).status != InstitutionStatus.active:
        raise Conflict("resource_id", "institution_active", f"institution {resource.institution_id} is not active")


def _require_live(booking: Booking, now: datetime) -> None:
    if slots.live_status(booking, now) not in slots.LIVE:
        raise Conflict("booking_id", "booking_status", "the booking is cancelled or its hold ran out")


def _require_not_started(booking: Booking, now: datetime) -> None:
    """A citizen changes or cancels only before the service begins: after it, the place was used or forfeited."""
    if booking.starts_at <= now:
        raise Conflict("booking_id", "booking_started", "the booking's slot has begun or passed")


def _record_expired(unit, session: Session, expired: list[Booking]) -> None:
    for booking in expired:
        unit.record(action="booking.expire", object_type=BOOKING, object_id=booking.id, event_type="booking.expired",
                    payload=event(booking, session.get(Resource, booking.resource_id), status=BookingStatus.expired))


def sweep(session: Session, *, ctx: TenantContext, principal: Principal, now: datetime | None = None) -> int:
    """Mark every hold that ran out as expired and give its place back; a second sweep finds nothing to do."""
    now = now or utcnow()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        slot_ids = set(session.exec(select(Booking.slot_id).where(Booking.status == BookingStatus.held,
                                                                  col(Booking.hold_until) <= now)))
        expired = [booking for slot_id in sorted(slot_ids) for booking in slots.reclaim(session, slot_id, now=now)]
        _record_expired(unit, session, expired)
    return len(expired)


def my_bookings(session: Session, *, principal: Principal, now: datetime | None = None) -> BookingsPublic:
    rows = session.exec(select(Booking).where(Booking.owner_subject == principal.subject)
                        .order_by(col(Booking.starts_at).desc())).all()
    return BookingsPublic(data=[public(session, row, now=now) for row in rows], count=len(rows))


def bookings_of_day(session: Session, *, principal: Principal, institution_id: uuid.UUID, on: date,
                    now: datetime | None = None) -> BookingsPublic:
    """The institution's bookings of the day (China time) by start, names and phones masked."""
    check_institution_binding(principal, institution_id)
    get_institution(session, institution_id=institution_id)
    rows = session.exec(select(Booking).where(Booking.institution_id == institution_id,
                                              *china_days(Booking.starts_at, on, on))
                        .order_by(Booking.starts_at, Booking.created_at)).all()
    return BookingsPublic(data=[public(session, row, now=now) for row in rows], count=len(rows))


def status_by_code(session: Session, digest: str, *, now: datetime | None = None) -> query_codes.PublicStatus | None:
    """What a booking's query code reveals: its number and status, when it was last changed, and when it is."""
    booking = session.exec(select(Booking).where(Booking.query_code_digest == digest)).first()
    if booking is None:
        return None
    return query_codes.PublicStatus(kind=BOOKING, number=booking.number,
                                    status=slots.live_status(booking, now or utcnow()).value,
                                    updated_at=booking.updated_at, due_on=booking.starts_at)
