"""Credit evaluation: the province's inspections, penalties, evaluations and lists; a registrar's own score; the
public red and black lists (no token, like the other public disclosures)."""
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from registry import errors
from registry.credit import evaluation, service
from registry.credit.models import (
    YEAR,
    CreditListsPublic,
    CreditScorePublic,
    CreditScoresPublic,
    EvaluationPublic,
    EvaluationRequest,
    InspectionCreate,
    InspectionPublic,
    InspectionsPublic,
    ListChange,
    OwnCreditScore,
    PenaltiesPublic,
    PenaltyCreate,
    PenaltyPublic,
)
from registry.deps import API_PREFIX, ContextDep, CreditManager, CreditOwnReader, SessionDep

router = APIRouter(prefix=f"{API_PREFIX}/credit", tags=["credit evaluation"])
Year = Annotated[int, Query(**YEAR, description="the year evaluated")]
AnyYear = Annotated[int | None, Query(**YEAR, description="of this year only")]


@router.post("/inspections", response_model=InspectionPublic, status_code=status.HTTP_201_CREATED,
             responses={404: {"model": errors.ErrorBody, "description": "No such institution"}})
def record_inspection(body: InspectionCreate, session: SessionDep, ctx: ContextDep,
                      principal: CreditManager) -> InspectionPublic:
    """An institution's annual inspection (年检) of a year: its result and findings."""
    return service.record_inspection(session, ctx=ctx, principal=principal, data=body)


@router.get("/inspections", response_model=InspectionsPublic)
def list_inspections(session: SessionDep, principal: CreditManager, year: AnyYear = None,
                     institution_id: uuid.UUID | None = None) -> InspectionsPublic:
    return InspectionsPublic(data=service.list_inspections(session, year=year, institution_id=institution_id))


@router.post("/penalties", response_model=PenaltyPublic, status_code=status.HTTP_201_CREATED,
             responses={404: {"model": errors.ErrorBody, "description": "No such institution"}})
def record_penalty(body: PenaltyCreate, session: SessionDep, ctx: ContextDep, principal: CreditManager) -> PenaltyPublic:
    """An administrative penalty (行政处罚) decided against an institution."""
    return service.record_penalty(session, ctx=ctx, principal=principal, data=body)


@router.get("/penalties", response_model=PenaltiesPublic)
def list_penalties(session: SessionDep, principal: CreditManager, year: AnyYear = None,
                   institution_id: uuid.UUID | None = None) -> PenaltiesPublic:
    return PenaltiesPublic(data=service.list_penalties(session, year=year, institution_id=institution_id))


@router.post("/evaluations", response_model=EvaluationPublic)
def evaluate(body: EvaluationRequest, session: SessionDep, ctx: ContextDep, principal: CreditManager) -> EvaluationPublic:
    """Score every institution for the year under the shipped rules; unchanged facts change nothing."""
    return evaluation.evaluate(session, ctx=ctx, principal=principal, year=body.year)


@router.get("/scores", response_model=CreditScoresPublic)
def list_scores(year: Year, session: SessionDep, principal: CreditManager) -> CreditScoresPublic:
    """Every institution's score of the year with each rule's points and facts, lowest first."""
    return CreditScoresPublic(year=year, data=evaluation.scores(session, year=year))


@router.get("/scores/mine", response_model=OwnCreditScore)
def own_score(year: Year, session: SessionDep, principal: CreditOwnReader) -> OwnCreditScore:
    """The registrar's own institution's score and the facts behind it; no other institution's."""
    found = evaluation.scores(session, year=year, institution_id=principal.institution_id)
    return OwnCreditScore(year=year, score=found[0] if found else None)


@router.post("/scores/{institution_id}/{year}/listing", response_model=CreditScorePublic)
def change_listing(institution_id: uuid.UUID, year: Annotated[int, Path(**YEAR)], body: ListChange,
                   session: SessionDep, ctx: ContextDep, principal: CreditManager) -> CreditScorePublic:
    """Put an evaluated institution on the red or black list, or take it off (null), with the reason."""
    return evaluation.change_listing(session, ctx=ctx, principal=principal, institution_id=institution_id, year=year,
                                     change=body)


@router.get("/lists", response_model=CreditListsPublic)
def published_lists(year: Year, session: SessionDep) -> CreditListsPublic:
    """The red and black lists (红黑名单) of the year, as published to the public."""
    return evaluation.lists(session, year=year)
