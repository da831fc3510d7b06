"""Remote farewell (远程告别): a booked farewell hall's ceremony followed by relatives through an external video
service. The registry keeps the service's join link, the session's start and end, and who was invited; each
invitee gets an invitation code of their own (kept only as a digest, like a query code). The link is shown to the
booking's owner, and to whoever brings a valid invitation code, never in a list or an event."""
import uuid
from datetime import datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError
from sqlmodel import Field as Column
from sqlmodel import Session, SQLModel, delete, select

from registry import query_codes
from registry.context import TenantContext
from registry.db_types import CHINA_TZ, ChinaTime, UTCDateTime, utcnow
from registry.errors import Conflict, Invalid, NotFound
from registry.reservations import slots
from registry.reservations.models import Booking, Resource, ResourceKind
from registry.reservations.service import BOOKING, event, own_booking
from registry.security.auth import Principal
from registry.security.masking import mask_name, mask_phone
from registry.validators import Name, Phone, rule_error, text

MAX_INVITEES = 50
MAX_SESSION = timedelta(hours=12)


def _https_link(value: str) -> str:
    """A link people are sent to: https on a named host, no credentials in it, nothing but the URL."""
    parts = urlsplit(value)
    if (parts.scheme != "https" or not parts.hostname or parts.username or parts.password
            or any(ch.isspace() for ch in value)):
        raise PydanticCustomError("https_link", "an https:// link of the video service, without credentials")
    return value


JoinLink = Annotated[text(500), AfterValidator(_https_link)]


class Invitee(SQLModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    phone: Phone


class RemoteFarewellSet(SQLModel):
    model_config = ConfigDict(extra="forbid")

    join_link: JoinLink
    starts_at: datetime
    ends_at: datetime
    invitees: list[Invitee] = Field(min_length=1, max_length=MAX_INVITEES)

    @model_validator(mode="after")
    def _times(self):
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise rule_error("starts_at", "timezone_aware", "times must state their time zone")
        if not self.starts_at < self.ends_at <= self.starts_at + MAX_SESSION:
            raise rule_error("ends_at", "date_order", "ends_at must come after starts_at, within 12 hours")
        return self


class RemoteFarewell(SQLModel, table=True):
    __tablename__ = "remote_farewells"

    booking_id: uuid.UUID = Column(foreign_key="bookings.id", primary_key=True)
    join_link_enc: str
    starts_at: datetime = Column(sa_type=UTCDateTime)
    ends_at: datetime = Column(sa_type=UTCDateTime)
    updated_at: datetime = Column(default_factory=utcnow, sa_type=UTCDateTime)


class FarewellInvitation(SQLModel, table=True):
    __tablename__ = "farewell_invitations"

    id: uuid.UUID = Column(default_factory=uuid.uuid4, primary_key=True)
    booking_id: uuid.UUID = Column(foreign_key="remote_farewells.booking_id", index=True)
    name_enc: str
    name_masked: str = Column(max_length=100)
    phone_enc: str
    phone_masked: str = Column(max_length=24)
    code_digest: str = Column(max_length=64, unique=True, index=True)


class InviteePublic(SQLModel):
    name: str  # masked
    phone: str  # masked
    invitation_code: str | None = None  # only in the answer that issued it


class RemoteFarewellPublic(SQLModel):
    booking_id: uuid.UUID
    join_link: str
    starts_at: ChinaTime
    ends_at: ChinaTime
    invitees: list[InviteePublic]


class JoinRequest(SQLModel):
    model_config = ConfigDict(extra="forbid")

    invitation_code: text(20)


class JoinAnswer(SQLModel):
    """What an invitee needs to join, nothing about who else was invited or whose farewell it is."""
    join_link: str
    starts_at: ChinaTime
    ends_at: ChinaTime
    hall: str


def set_remote(session: Session, *, ctx: TenantContext, principal: Principal, booking_id: uuid.UUID,
               data: RemoteFarewellSet, now: datetime | None = None) -> RemoteFarewellPublic:
    """Make the owner's farewell-hall booking remote, or replace its link, times and invitees: earlier
    invitation codes stop working and each invitee gets a new one, shown in this answer only."""
    now = now or utcnow()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        booking = own_booking(session, principal, booking_id)
        resource = session.get(Resource, booking.resource_id)
        if resource.kind != ResourceKind.farewell_hall:
            raise Conflict("booking_id", "farewell_hall_only", "only a farewell-hall booking can be followed remotely")
        if slots.live_status(booking, now) not in slots.LIVE:
            raise Conflict("booking_id", "booking_status", "the booking is cancelled or its hold ran out")
        if not (data.starts_at < booking.ends_at and data.ends_at > booking.starts_at):
            raise Invalid("starts_at", "farewell_time", "the remote session must overlap the booked slot")
        stored = session.get(RemoteFarewell, booking.id) or RemoteFarewell(booking_id=booking.id, join_link_enc="",
                                                                            starts_at=data.starts_at,
                                                                            ends_at=data.ends_at)
        stored.join_link_enc = ctx.encrypt("farewell.join_link", data.join_link)
        stored.starts_at, stored.ends_at, stored.updated_at = data.starts_at, data.ends_at, now
        session.add(stored)
        session.flush()
        session.execute(delete(FarewellInvitation).where(FarewellInvitation.booking_id == booking.id))
        invitees = []
        for invitee in data.invitees:
            code = query_codes.new_code()
            session.add(FarewellInvitation(booking_id=booking.id, code_digest=query_codes.digest(code),
                                           name_enc=ctx.encrypt("farewell.invitee_name", invitee.name),
                                           name_masked=mask_name(invitee.name),
                                           phone_enc=ctx.encrypt("farewell.invitee_phone", invitee.phone),
                                           phone_masked=mask_phone(invitee.phone)))
            invitees.append(InviteePublic(name=mask_name(invitee.name), phone=mask_phone(invitee.phone),
                                          invitation_code=code))
        session.flush()
        unit.record(action="farewell.set_remote", object_type=BOOKING, object_id=booking.id,
                    event_type="farewell.remote_set",
                    payload=event(booking, resource, invitees=len(invitees),
                                  session_starts_at=data.starts_at.astimezone(CHINA_TZ).isoformat(),
                                  session_ends_at=data.ends_at.astimezone(CHINA_TZ).isoformat()))
    return RemoteFarewellPublic(booking_id=booking.id, join_link=data.join_link, starts_at=data.starts_at,
                                ends_at=data.ends_at, invitees=invitees)


def get_remote(session: Session, *, ctx: TenantContext, principal: Principal,
               booking_id: uuid.UUID) -> RemoteFarewellPublic:
    """The owner's remote farewell with its link; invitees masked, their codes never again."""
    booking = own_booking(session, principal, booking_id)
    stored = session.get(RemoteFarewell, booking.id)
    if stored is None:
        raise NotFound("booking_id", "this booking has no remote farewell")
    invitations = session.exec(select(FarewellInvitation).where(FarewellInvitation.booking_id == booking.id)
                               .order_by(FarewellInvitation.name_masked)).all()
    return RemoteFarewellPublic(booking_id=booking.id, join_link=ctx.decrypt("farewell.join_link", stored.join_link_enc),
                                starts_at=stored.starts_at, ends_at=stored.ends_at,
                                invitees=[InviteePublic(name=row.name_masked, phone=row.phone_masked)
                                          for row in invitations])


def join(session: Session, *, ctx: TenantContext, invitation_code: str, now: datetime | None = None) -> JoinAnswer | None:
    """The session an invitation code opens, or None (unknown code, or the booking is no longer live)."""
    if not query_codes.well_formed(invitation_code):
        return None
    invitation = session.exec(select(FarewellInvitation).where(
        FarewellInvitation.code_digest == query_codes.digest(invitation_code))).first()
    if invitation is None:
        return None
    booking = session.get(Booking, invitation.booking_id)
    if slots.live_status(booking, now or utcnow()) not in slots.LIVE:
        return None
    stored = session.get(RemoteFarewell, booking.id)
    return JoinAnswer(join_link=ctx.decrypt("farewell.join_link", stored.join_link_enc), starts_at=stored.starts_at,
                      ends_at=stored.ends_at, hall=session.get(Resource, booking.resource_id).name)
