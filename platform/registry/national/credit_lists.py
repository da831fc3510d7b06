"""The provinces' red and black lists (红黑名单) at the ministry: one record per province, institution and year, kept
current from the provinces' `credit.list_changed` events (a replay or an older event changes nothing) and listed
for ministry operators, every read audited. Public facts of institutions only."""
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query
from pydantic import BaseModel, ConfigDict
from pydantic import Field as Check
from sqlalchemy import JSON, Column
from sqlmodel import Field, Session, col, select

from registry.db_types import ChinaTime, UTCDateTime
from registry.deps import API_PREFIX, ContextDep, SessionDep, require
from registry.exchange.models import BatchEvent
from registry.national.models import PROVINCE_PATTERN, _ProvinceRecord
from registry.national.records import upsert
from registry.national.service import audit_read
from registry.security.auth import Principal
from registry.security.permissions import Permission


class NationalCreditListing(_ProvinceRecord, table=True):
    """Where an institution of a province stands on the lists of a year, as its latest change left it; `listing`
    is null once it left every list (kept, so the ministry sees that it left)."""
    __tablename__ = "national_credit_listings"

    institution_id: uuid.UUID = Field(primary_key=True)
    year: int = Field(primary_key=True, index=True)
    name: str = Field(max_length=100)
    credit_code: str = Field(max_length=18)
    region_code: str = Field(max_length=6)
    listing: str | None = Field(default=None, max_length=8, index=True)
    previous: str | None = Field(default=None, max_length=8)
    score: float
    reasons: list[dict] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    manual: bool = False
    changed_at: datetime = Field(sa_type=UTCDateTime)


class _ListChanged(BaseModel):
    model_config = ConfigDict(extra="ignore")

    institution_id: uuid.UUID
    name: str
    credit_code: str
    region_code: str
    year: int
    listing: str | None
    previous: str | None = None
    score: float
    reasons: list[dict]
    manual: bool = False
    changed_at: datetime


def apply(session: Session, province: str, province_code: str, event: BatchEvent, now: datetime) -> None:
    change = _ListChanged.model_validate(event.payload)
    upsert(session, NationalCreditListing, province=province,
           key={"institution_id": change.institution_id, "year": change.year},
           values=change.model_dump(exclude={"institution_id", "year"}), seq=event.seq, now=now)


# the tables these events set, and how
MODELS = (NationalCreditListing,)
APPLY = {"credit.list_changed": apply}


class CreditListingPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    province_slug: str
    institution_id: uuid.UUID
    year: int
    name: str
    credit_code: str
    region_code: str
    listing: str
    score: float
    reasons: list[dict]
    manual: bool
    changed_at: ChinaTime


class CreditListingsPublic(BaseModel):
    year: int
    data: list[CreditListingPublic]


class CreditListsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    year: int = Check(ge=2000, le=2100)
    province: str | None = Check(default=None, pattern=PROVINCE_PATTERN)
    listing: str | None = Check(default=None, pattern="^(red|black)$")


def listed_rows(session: Session, query: CreditListsQuery) -> list[NationalCreditListing]:
    """Every province's institutions on a list of the year, by province, list and name."""
    statement = select(NationalCreditListing).where(NationalCreditListing.year == query.year,
                                                    col(NationalCreditListing.listing).is_not(None))
    if query.province:
        statement = statement.where(NationalCreditListing.province_slug == query.province)
    if query.listing:
        statement = statement.where(NationalCreditListing.listing == query.listing)
    return list(session.exec(statement.order_by(
        col(NationalCreditListing.province_slug), col(NationalCreditListing.listing), col(NationalCreditListing.name),
        col(NationalCreditListing.institution_id))))


def listed(session: Session, *, ctx, principal: Principal, query: CreditListsQuery) -> CreditListingsPublic:
    """The lists for a ministry operator; the read is audited."""
    rows = listed_rows(session, query)
    page = CreditListingsPublic(year=query.year, data=[CreditListingPublic.model_validate(row) for row in rows])
    audit_read(session, ctx, principal, "national.credit_lists", query.model_dump(exclude_none=True), len(page.data))
    return page


router = APIRouter(prefix=f"{API_PREFIX}/national", tags=["national database"])
NationalReader = require(Permission.national_read)


@router.get("/credit-lists", response_model=CreditListingsPublic)
def list_credit_lists(query: Annotated[CreditListsQuery, Query()], session: SessionDep, ctx: ContextDep,
                      principal: NationalReader) -> CreditListingsPublic:
    """The provinces' red and black lists (红黑名单) of a year, by province and list; audited."""
    return listed(session, ctx=ctx, principal=principal, query=query)


def mount(app: FastAPI) -> None:
    app.include_router(router)
