"""The way back: a province asks the ministry which of its cases the ministry matched with another province's
(the same person registered twice), over the channel it ships on, signed with the same key.

The request is canonical JSON `{after, province, requested_at}` signed like a batch; `requested_at` must be within
`FRESHNESS` of the ministry's clock, so a captured request cannot be replayed later. The answer lists the pairs
past `after` (the ministry's match numbers, increasing) that name the province, each seen from its side: its own
case, the other province and the other case. No person_ref, no personal data: the province checks its own case.
"""
import uuid
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import or_, select
from sqlmodel import Session

from registry.db_types import ChinaTime
from registry.exchange.models import SLUG_PATTERN, ExchangeCursor
from registry.national.models import PersonMatch

MATCHES_PATH = "/api/v1/exchange/matches"
MATCHES_ACTION = f"POST {MATCHES_PATH}"
FRESHNESS = timedelta(minutes=5)
PAGE = 500


class MatchesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    province: str = PydanticField(pattern=SLUG_PATTERN)
    after: int = PydanticField(ge=0, le=2**31 - 1, description="the last match number the province holds")
    requested_at: datetime


class ReturnedMatch(BaseModel):
    """One pair as the asking province sees it."""

    id: int = PydanticField(description="the ministry's match number")
    case_id: uuid.UUID = PydanticField(description="the asking province's case")
    other_province: str
    other_province_code: str = PydanticField(pattern=r"^\d{6}$", description="GB/T 2260, for its name")
    other_case_id: uuid.UUID
    found_at: ChinaTime


class MatchesAnswer(BaseModel):
    matches: list[ReturnedMatch]
    more: bool = PydanticField(description="more pairs past the last one: ask again after it")


def is_fresh(requested_at: datetime, now: datetime) -> bool:
    return requested_at.tzinfo is not None and abs(now - requested_at) <= FRESHNESS


def matches_for(session: Session, *, province: str, after: int, limit: int | None = None) -> MatchesAnswer:
    """The pairs naming `province` past match number `after`, oldest first, at most `limit` (default PAGE)."""
    limit = limit or PAGE
    pairs = PersonMatch.__table__.c
    rows = session.connection().execute(
        select(pairs.id, pairs.province_a, pairs.case_a, pairs.province_b, pairs.case_b, pairs.found_at)
        .where(pairs.id > after, or_(pairs.province_a == province, pairs.province_b == province))
        .order_by(pairs.id).limit(limit + 1)).all()
    codes = dict(session.connection().execute(select(ExchangeCursor.province_slug, ExchangeCursor.province_code)).all())
    matches = []
    for row in rows[:limit]:
        ours_first = row.province_a == province
        matches.append(ReturnedMatch(
            id=row.id, case_id=row.case_a if ours_first else row.case_b,
            other_province=(other := row.province_b if ours_first else row.province_a),
            other_province_code=codes.get(other, "000000"),
            other_case_id=row.case_b if ours_first else row.case_a, found_at=row.found_at))
    return MatchesAnswer(matches=matches, more=len(rows) > limit)
