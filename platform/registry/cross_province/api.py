"""/cross-province-matches: the pairs the ministry found, for the province's reviewers to check and settle."""
import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from registry import errors
from registry.cross_province import service
from registry.cross_province.models import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    CrossProvinceMatchesPublic,
    CrossProvinceMatchPublic,
    MatchSettlement,
)
from registry.deps import API_PREFIX, CasesReviewer, ContextDep, Offset, SessionDep

router = APIRouter(prefix=f"{API_PREFIX}/cross-province-matches", tags=["cross-province matches"])
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="pairs a page")]
MatchId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", response_model=CrossProvinceMatchesPublic)
def list_matches(session: SessionDep, ctx: ContextDep, _: CasesReviewer,
                 settled: Annotated[bool | None, Query(description="false: still to check")] = None,
                 case_id: uuid.UUID | None = None, offset: Offset = 0,
                 limit: Limit = PAGE_SIZE) -> CrossProvinceMatchesPublic:
    """One person registered here and in another province (the ministry matched their blind index), newest first."""
    rows, total = service.list_matches(session, ctx=ctx, settled=settled, case_id=case_id, offset=offset, limit=limit)
    return CrossProvinceMatchesPublic(data=rows, count=total)


@router.post("/{match_id}/finding", response_model=CrossProvinceMatchPublic,
             responses={404: {"model": errors.ErrorBody}, 409: {"model": errors.ErrorBody}})
def settle(match_id: MatchId, body: MatchSettlement, session: SessionDep, ctx: ContextDep,
           principal: CasesReviewer) -> CrossProvinceMatchPublic:
    """What checking the two cases found (the same person, or two people); once, audited."""
    return service.settle(session, ctx=ctx, principal=principal, match_id=match_id, data=body)
