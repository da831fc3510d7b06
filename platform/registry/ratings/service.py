"""Ratings: the citizen rates their own completed service once; staff read their institution's ratings and the
province all; the summary per institution feeds the credit evaluation. Every write is one audited unit of write;
events carry the institution, the service kind and the score, never the comment or who wrote it."""
import uuid
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from registry.context import TenantContext
from registry.db_types import CHINA_TZ, utcnow
from registry.errors import Conflict, Invalid, NotFound
from registry.memorials import words
from registry.memorials.models import Decision
from registry.ratings.models import (
    SCORES,
    CommentStatus,
    InstitutionRatings,
    Rating,
    RatingCreate,
    RatingForStaff,
    RatingPublic,
    RatingsSummary,
)
from registry.reservations.models import Booking, BookingStatus, Resource
from registry.reservations.service import own_booking
from registry.security.auth import Principal
from registry.security.permissions import INSTITUTION_BOUND


def completed(booking: Booking, now: datetime) -> bool:
    """A service is completed when its booking was confirmed by the staff and its slot has ended."""
    return booking.status == BookingStatus.confirmed and booking.ends_at <= now


def _comment(ctx: TenantContext, row: Rating) -> str | None:
    return ctx.decrypt("rating.comment", row.comment_encrypted) if row.comment_encrypted else None


def public(ctx: TenantContext, row: Rating) -> RatingPublic:
    return RatingPublic(id=row.id, booking_id=row.booking_id, institution_id=row.institution_id,
                        service_kind=row.service_kind, score=row.score, comment=_comment(ctx, row),
                        comment_status=row.comment_status, created_at=row.created_at)


def _already(booking_id: uuid.UUID) -> Conflict:
    return Conflict("booking_id", "already_rated", f"booking {booking_id} has been rated already")


def rate(session: Session, *, ctx: TenantContext, principal: Principal, booking_id: uuid.UUID, data: RatingCreate,
         now: datetime | None = None) -> RatingPublic:
    """The owner's one rating of a completed booking; its comment held for review when the word filter finds a word."""
    now = now or utcnow()
    hits = words.found_in(data.comment)
    status = None if data.comment is None else CommentStatus.held if hits else CommentStatus.published
    try:
        with ctx.journal.write(session, actor=principal.subject) as unit:
            booking = own_booking(session, principal, booking_id)  # another's booking: 404, like a missing one
            if not completed(booking, now):
                raise Invalid("booking_id", "service_not_completed",
                              f"booking {booking_id} is not a completed service: confirmed and ended")
            if session.exec(select(Rating.id).where(Rating.booking_id == booking.id)).first() is not None:
                raise _already(booking_id)
            kind = session.get(Resource, booking.resource_id).kind
            row = Rating(booking_id=booking.id, institution_id=booking.institution_id, service_kind=kind,
                         owner_subject=principal.subject, score=data.score, comment_status=status,
                         comment_encrypted=ctx.encrypt("rating.comment", data.comment) if data.comment else None,
                         flagged=",".join(hits)[:200] or None, created_at=now)
            session.add(row)
            session.flush()  # a concurrent second rating meets the unique booking_id here, inside the unit
            unit.record(action="rating.submitted", object_type="rating", object_id=row.id, event_type="rating.submitted",
                        payload={"rating_id": str(row.id), "institution_id": str(row.institution_id),
                                 "service_kind": kind, "score": data.score})
    except IntegrityError:
        raise _already(booking_id) from None
    return public(ctx, row)


def list_own(session: Session, *, ctx: TenantContext, principal: Principal) -> list[RatingPublic]:
    rows = session.exec(select(Rating).where(Rating.owner_subject == principal.subject)
                        .order_by(col(Rating.created_at).desc(), col(Rating.id)))
    return [public(ctx, row) for row in rows]


def staff_scope(principal: Principal) -> list:
    """An institution's staff see the ratings of their institution; the province's staff see all."""
    return [Rating.institution_id == principal.institution_id] if principal.roles & INSTITUTION_BOUND else []


def list_for_staff(session: Session, *, ctx: TenantContext, principal: Principal, institution_id: uuid.UUID | None = None,
                   held: bool | None = None, offset: int = 0, limit: int = 20) -> tuple[list[RatingForStaff], int]:
    """Ratings in reach of the staff member, newest first, with the booking's number."""
    query = select(Rating, Booking.number).join(Booking, col(Booking.id) == col(Rating.booking_id)).where(
        *staff_scope(principal))
    if institution_id is not None:
        query = query.where(Rating.institution_id == institution_id)
    if held is not None:
        query = query.where((Rating.comment_status == CommentStatus.held) if held
                            else (col(Rating.comment_status).is_(None) | (Rating.comment_status != CommentStatus.held)))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(Rating.created_at).desc(), col(Rating.id)).offset(offset).limit(limit)).all()
    return [RatingForStaff(**public(ctx, row).model_dump(), booking_number=number, flagged=row.flagged)
            for row, number in rows], total


def review(session: Session, *, ctx: TenantContext, principal: Principal, rating_id: uuid.UUID, decision: Decision,
           now: datetime | None = None) -> RatingPublic:
    """The moderators publish or reject a held comment; the score counts either way."""
    now = now or utcnow()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        row = session.get(Rating, rating_id)
        if row is None:
            raise NotFound("rating_id", f"rating {rating_id} not found")
        if row.comment_status != CommentStatus.held:
            raise Conflict("decision", "comment_not_held", f"rating {rating_id} has no comment held for review")
        row.comment_status = CommentStatus.published if decision == Decision.approve else CommentStatus.rejected
        row.reviewed_at = now
        session.add(row)
        unit.record(action="rating.reviewed", object_type="rating", object_id=row.id, event_type="rating.reviewed",
                    payload={"rating_id": str(row.id), "institution_id": str(row.institution_id),
                             "comment_status": row.comment_status})
    return public(ctx, row)


def summary_by_institution(session: Session, year: int | None = None, *, conditions: list | None = None) -> RatingsSummary:
    """Per institution rated: how many ratings, the mean score (two places) and how many of each score; of ratings
    given in `year` (China time) when named. Institutions without ratings are not listed."""
    query = select(Rating.institution_id, Rating.score, func.count()).where(*(conditions or []))
    if year is not None:
        query = query.where(col(Rating.created_at) >= datetime(year, 1, 1, tzinfo=CHINA_TZ),
                            col(Rating.created_at) < datetime(year + 1, 1, 1, tzinfo=CHINA_TZ))
    found: dict[uuid.UUID, dict[int, int]] = {}
    for institution_id, score, n in session.exec(query.group_by(Rating.institution_id, Rating.score)).all():
        found.setdefault(institution_id, dict.fromkeys(SCORES, 0))[score] = n
    data = []
    for institution_id, distribution in sorted(found.items(), key=lambda item: str(item[0])):
        count = sum(distribution.values())
        mean = sum(score * n for score, n in distribution.items()) / count
        data.append(InstitutionRatings(institution_id=institution_id, count=count, mean=round(mean, 2),
                                       distribution=distribution))
    return RatingsSummary(year=year, data=data)
