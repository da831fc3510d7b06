"""Reservations: resources and free slots (public), a citizen's own bookings, the institution's staff at work,
and the public join of a remote farewell by invitation code."""
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from registry import errors, messages
from registry.cases.access import check_institution_binding
from registry.deps import API_PREFIX, ContextDep, SessionDep, require
from registry.reservations import farewell, resources, service
from registry.reservations.counts import BookingsCollector
from registry.reservations.models import (
    BookingCancel,
    BookingChange,
    BookingCreate,
    BookingCreated,
    BookingPublic,
    BookingsPublic,
    ResourceCreate,
    ResourceFields,
    ResourcePublic,
    ResourcesPublic,
    SlotsPublic,
)
from registry.security.permissions import Permission
from registry.validators import Day

router = APIRouter(prefix=API_PREFIX, tags=["reservations"])
Citizen = require(Permission.services_apply)
BookingsManager = require(Permission.bookings_manage)
MINE = "/my/bookings/{booking_id}"
OnDay = Annotated[Day, Query(description="the day, China time, e.g. 2026-12-01")]


@router.get("/institutions/{institution_id}/resources", response_model=ResourcesPublic)
def list_resources(institution_id: uuid.UUID, session: SessionDep) -> ResourcesPublic:
    """The institution's open resources: what the public can book."""
    return resources.list_resources(session, institution_id=institution_id)


@router.get("/institutions/{institution_id}/resources/all", response_model=ResourcesPublic)
def list_all_resources(institution_id: uuid.UUID, session: SessionDep, principal: BookingsManager) -> ResourcesPublic:
    """Staff: the open and the closed ones."""
    check_institution_binding(principal, institution_id)
    return resources.list_resources(session, institution_id=institution_id, with_closed=True)


@router.post("/institutions/{institution_id}/resources", response_model=ResourcePublic, status_code=201)
def create_resource(institution_id: uuid.UUID, body: ResourceCreate, session: SessionDep, ctx: ContextDep,
                    principal: BookingsManager) -> ResourcePublic:
    return resources.create_resource(session, ctx=ctx, principal=principal, institution_id=institution_id, data=body)


@router.patch("/resources/{resource_id}", response_model=ResourcePublic)
def update_resource(resource_id: uuid.UUID, body: ResourceFields, session: SessionDep, ctx: ContextDep,
                    principal: BookingsManager) -> ResourcePublic:
    return resources.update_resource(session, ctx=ctx, principal=principal, resource_id=resource_id, data=body)


@router.get("/resources/{resource_id}", response_model=ResourcePublic)
def get_resource(resource_id: uuid.UUID, session: SessionDep) -> ResourcePublic:
    return resources.public(resources.get_resource(session, resource_id))


@router.get("/resources/{resource_id}/slots", response_model=SlotsPublic)
def free_slots(resource_id: uuid.UUID, session: SessionDep, on: OnDay) -> SlotsPublic:
    """The day's slots with their free places."""
    return resources.free_slots(session, resource_id=resource_id, on=on)


@router.post("/my/bookings", response_model=BookingCreated, status_code=201,
             responses={404: {"model": errors.ErrorBody, "description": "No such resource"}})
def book(body: BookingCreate, session: SessionDep, ctx: ContextDep, principal: Citizen) -> BookingCreated:
    """Hold a place (30 minutes until staff confirm); 409 when the slot is full. The query code is shown once."""
    return service.book(session, ctx=ctx, principal=principal, data=body)


@router.get("/my/bookings", response_model=BookingsPublic)
def my_bookings(session: SessionDep, principal: Citizen) -> BookingsPublic:
    return service.my_bookings(session, principal=principal)


@router.get(MINE, response_model=BookingPublic)
def my_booking(booking_id: uuid.UUID, session: SessionDep, principal: Citizen) -> BookingPublic:
    return service.public(session, service.own_booking(session, principal, booking_id))


@router.post(f"{MINE}/change", response_model=BookingPublic)
def change_booking(booking_id: uuid.UUID, body: BookingChange, session: SessionDep, ctx: ContextDep,
                   principal: Citizen) -> BookingPublic:
    """Move to another slot of the same resource, atomically: a full slot leaves the booking where it was."""
    return service.change(session, ctx=ctx, principal=principal, booking_id=booking_id, data=body)


@router.post(f"{MINE}/cancel", response_model=BookingPublic)
def cancel_my_booking(booking_id: uuid.UUID, body: BookingCancel, session: SessionDep, ctx: ContextDep,
                      principal: Citizen) -> BookingPublic:
    return service.cancel_own(session, ctx=ctx, principal=principal, booking_id=booking_id, data=body)


@router.put(f"{MINE}/remote-farewell", response_model=farewell.RemoteFarewellPublic)
def set_remote_farewell(booking_id: uuid.UUID, body: farewell.RemoteFarewellSet, session: SessionDep, ctx: ContextDep,
                        principal: Citizen) -> farewell.RemoteFarewellPublic:
    """Make a farewell-hall booking remote; each invitee's code is in this answer only."""
    return farewell.set_remote(session, ctx=ctx, principal=principal, booking_id=booking_id, data=body)


@router.get(f"{MINE}/remote-farewell", response_model=farewell.RemoteFarewellPublic)
def get_remote_farewell(booking_id: uuid.UUID, session: SessionDep, ctx: ContextDep,
                        principal: Citizen) -> farewell.RemoteFarewellPublic:
    return farewell.get_remote(session, ctx=ctx, principal=principal, booking_id=booking_id)


@router.get("/institutions/{institution_id}/bookings", response_model=BookingsPublic)
def bookings_of_day(institution_id: uuid.UUID, session: SessionDep, principal: BookingsManager,
                    on: OnDay) -> BookingsPublic:
    """Staff: the institution's bookings of a day, names and phones masked."""
    return service.bookings_of_day(session, principal=principal, institution_id=institution_id, on=on)


@router.post("/bookings/{booking_id}/confirm", response_model=BookingPublic)
def confirm_booking(booking_id: uuid.UUID, session: SessionDep, ctx: ContextDep,
                    principal: BookingsManager) -> BookingPublic:
    return service.confirm(session, ctx=ctx, principal=principal, booking_id=booking_id)


@router.post("/bookings/{booking_id}/cancel", response_model=BookingPublic)
def cancel_booking(booking_id: uuid.UUID, body: BookingCancel, session: SessionDep, ctx: ContextDep,
                   principal: BookingsManager) -> BookingPublic:
    return service.cancel_by_staff(session, ctx=ctx, principal=principal, booking_id=booking_id, data=body)


@router.post("/bookings/expiry-sweeps", response_model=dict[str, int])
def sweep_expired_holds(session: SessionDep, ctx: ContextDep, principal: BookingsManager) -> dict[str, int]:
    """Mark the holds that ran out as expired (idempotent; bookings never wait for it to free a place)."""
    return {"expired": service.sweep(session, ctx=ctx, principal=principal)}


@router.post("/remote-farewell-joins", response_model=farewell.JoinAnswer,
             responses={404: {"model": errors.ErrorBody}, 429: {"model": errors.ErrorBody}})
def join_remote_farewell(body: farewell.JoinRequest, request: Request, session: SessionDep,
                         ctx: ContextDep) -> farewell.JoinAnswer | JSONResponse:
    """An invited relative opens the session with their invitation code; no sign-in. Wrong codes are limited
    per client and answered here, not raised: anyone can send them, and each audited would grow the trail."""
    client = request.client.host if request.client else "unknown"
    language = messages.language_of(request.headers.get("accept-language"))
    attempts = ctx.query_attempts
    if not attempts.blocked(client):
        found = farewell.join(session, ctx=ctx, invitation_code=body.invitation_code)
        if found is not None:
            return found
        if not attempts.failed(client):
            problem = errors.localize({"field": "invitation_code", "rule": "farewell_invitation",
                                       "message": "no live remote farewell has this invitation code"}, language)
            return JSONResponse(errors.body(404, messages.title(404, language, "not found"), [problem]), status_code=404)
        ctx.journal.refused(actor="anonymous", action="farewell.join", status=429, problems=[
            {"field": "invitation_code", "rule": "too_many_attempts",
             "message": f"{attempts.max_failures} wrong codes from one client"}])  # once per window: the trip
    problem = errors.localize({"field": "invitation_code", "rule": "too_many_attempts",
                               "message": "too many wrong codes from this client; try again later"}, language)
    return JSONResponse(errors.body(429, messages.title(429, language, "too many requests"), [problem]),
                        status_code=429, headers={"Retry-After": str(int(attempts.window))})


def mount(app) -> None:
    """The routes, and the bookings' counts on the app's /metrics."""
    app.include_router(router)
    app.state.ctx.metrics.registry.register(BookingsCollector(app.state.ctx.engine))
