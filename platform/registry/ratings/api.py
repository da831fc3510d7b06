"""Ratings: the citizen's under /my, the staff's under /ratings (their institution's; the province's all)."""
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from registry.deps import API_PREFIX, Citizen, ContextDep, MemorialsModerator, Offset, RatingsReader, SessionDep
from registry.memorials.models import Review
from registry.ratings import service
from registry.ratings.models import MAX_PAGE_SIZE, PAGE_SIZE, OwnRatings, RatingCreate, RatingPublic, RatingsPublic, RatingsSummary

router = APIRouter(prefix=API_PREFIX, tags=["ratings"])
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="items a page")]
Year = Annotated[int | None, Query(ge=2000, le=2100, description="ratings given in this year (China time)")]


@router.post("/my/bookings/{booking_id}/rating", response_model=RatingPublic, status_code=status.HTTP_201_CREATED)
def rate(booking_id: uuid.UUID, body: RatingCreate, session: SessionDep, ctx: ContextDep, principal: Citizen) -> RatingPublic:
    """Rate one's own completed booking (confirmed, its slot ended), once."""
    return service.rate(session, ctx=ctx, principal=principal, booking_id=booking_id, data=body)


@router.get("/my/ratings", response_model=OwnRatings)
def list_own(session: SessionDep, ctx: ContextDep, principal: Citizen) -> OwnRatings:
    return OwnRatings(data=service.list_own(session, ctx=ctx, principal=principal))


@router.get("/ratings", response_model=RatingsPublic)
def list_ratings(session: SessionDep, ctx: ContextDep, principal: RatingsReader, institution_id: uuid.UUID | None = None,
                 held: bool | None = None, offset: Offset = 0, limit: Limit = PAGE_SIZE) -> RatingsPublic:
    """Ratings of the staff member's institution (a registrar's), or of all (the province's), newest first."""
    rows, total = service.list_for_staff(session, ctx=ctx, principal=principal, institution_id=institution_id,
                                         held=held, offset=offset, limit=limit)
    return RatingsPublic(data=rows, count=total)


@router.get("/ratings/summary", response_model=RatingsSummary)
def summary(session: SessionDep, principal: RatingsReader, year: Year = None) -> RatingsSummary:
    """Per institution: count, mean and distribution of scores (a registrar's own institution only)."""
    return service.summary_by_institution(session, year, conditions=service.staff_scope(principal))


@router.post("/ratings/{rating_id}/review", response_model=RatingPublic)
def review(rating_id: uuid.UUID, body: Review, session: SessionDep, ctx: ContextDep,
           principal: MemorialsModerator) -> RatingPublic:
    """Publish or reject a comment the word filter held (the same moderators as memorial messages)."""
    return service.review(session, ctx=ctx, principal=principal, rating_id=rating_id, decision=body.decision)
