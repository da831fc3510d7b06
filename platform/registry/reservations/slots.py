"""The slots of a resource and their places: when a slot may be booked, and the database's guard on its counter.

A place is taken by `UPDATE resource_slots SET taken = taken + 1 WHERE id = :slot AND taken < capacity`: the
database evaluates the condition on the locked row, so of many writers racing for the last place exactly one
sees a row updated, whatever the isolation level; the CHECK on the table refuses anything past the capacity.
Expired holds are given back first (`reclaim`), so a slot is full only with live bookings."""
from datetime import date, datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from registry.db_types import CHINA_TZ, new_id
from registry.errors import Conflict, Invalid
from registry.reservations.models import LIVE, Booking, BookingStatus, Resource, ResourceStatus, Slot


def starts_of_day(resource: Resource, day: date) -> list[datetime]:
    """The slot starts of `day` (China time) the resource offers: from opening while a whole slot fits."""
    if str(day.isoweekday()) not in resource.weekdays:
        return []
    start = datetime.combine(day, resource.opens_at, tzinfo=CHINA_TZ)
    close = datetime.combine(day, resource.closes_at, tzinfo=CHINA_TZ)
    length = timedelta(minutes=resource.slot_minutes)
    starts = []
    while start + length <= close:
        starts.append(start)
        start += length
    return starts


def check_bookable(resource: Resource, starts_at: datetime, *, now: datetime, field: str = "starts_at") -> None:
    """Refuse a start the resource does not offer: closed, past, beyond its window, or off its slot grid."""
    if resource.status != ResourceStatus.open:
        raise Conflict("resource_id", "resource_closed", f"resource {resource.id} takes no bookings")
    if starts_at.tzinfo is None:
        raise Invalid(field, "timezone_aware", "starts_at must state its time zone")
    local = starts_at.astimezone(CHINA_TZ)
    if starts_at <= now:
        raise Invalid(field, "slot_future", "the slot has already begun")
    if local.date() > now.astimezone(CHINA_TZ).date() + timedelta(days=resource.advance_days):
        raise Invalid(field, "booking_window", f"bookable at most {resource.advance_days} days ahead",
                      advance_days=resource.advance_days)
    if local not in starts_of_day(resource, local.date()):
        raise Invalid(field, "slot_start", "not a slot of this resource: see its free slots")


def slot_of(session: Session, resource: Resource, starts_at: datetime) -> Slot:
    """The slot row of this start, created on first use (a concurrent creator of the same row is harmless)."""
    dialect = session.connection().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(Slot).values(id=new_id(),
                                        resource_id=resource.id, starts_at=starts_at, capacity=resource.capacity,
                                        taken=0)
                    .on_conflict_do_nothing(index_elements=["resource_id", "starts_at"]))
    return session.exec(select(Slot).where(Slot.resource_id == resource.id, Slot.starts_at == starts_at)).one()


def reclaim(session: Session, slot_id, *, now: datetime) -> list[Booking]:
    """Mark the slot's holds that ran out as expired and give their places back; the bookings it expired."""
    expired = list(session.exec(select(Booking).where(Booking.slot_id == slot_id, Booking.status == BookingStatus.held,
                                                      col(Booking.hold_until) <= now)))
    for booking in expired:
        # conditional, so a sweep running at the same time gives each place back once
        gone = session.execute(update(Booking).where(col(Booking.id) == booking.id,
                                                     col(Booking.status) == BookingStatus.held)
                               .values(status=BookingStatus.expired, updated_at=now)).rowcount
        if gone:
            release(session, slot_id)
    return expired


def take(session: Session, slot: Slot) -> None:
    """One place of the slot, or a 409 when none is free (`reclaim` first: run-out holds keep no place)."""
    raised = session.execute(update(Slot).where(col(Slot.id) == slot.id, col(Slot.taken) < col(Slot.capacity))
                             .values(taken=Slot.taken + 1)).rowcount
    if raised != 1:
        raise Conflict("starts_at", "slot_full", "this slot has no free place left")


def release(session: Session, slot_id) -> None:
    session.execute(update(Slot).where(col(Slot.id) == slot_id, col(Slot.taken) > 0).values(taken=Slot.taken - 1))


def free_places(session: Session, resource: Resource, day: date, *, now: datetime) -> list[tuple[datetime, int]]:
    """(start, free places) of each slot of `day`: what live bookings (confirmed, or held and not run out) leave."""
    starts = [start for start in starts_of_day(resource, day) if start > now]
    if not starts:
        return []
    live = (col(Booking.status) == BookingStatus.confirmed) | (
        (col(Booking.status) == BookingStatus.held) & (col(Booking.hold_until) > now))
    rows = session.exec(select(Booking.starts_at, func.count()).where(
        Booking.resource_id == resource.id, col(Booking.starts_at).in_(starts), live).group_by(Booking.starts_at))
    taken = {start: n for start, n in rows}
    return [(start, max(0, resource.capacity - taken.get(start, 0))) for start in starts]


def live_status(booking: Booking, now: datetime) -> BookingStatus:
    """The status as it stands now: a hold that ran out is expired even before a sweep marks it."""
    status = BookingStatus(booking.status)
    if status == BookingStatus.held and booking.hold_until is not None and booking.hold_until <= now:
        return BookingStatus.expired
    return status


__all__ = ["LIVE", "check_bookable", "free_places", "live_status", "reclaim", "release", "slot_of", "starts_of_day",
           "take"]
