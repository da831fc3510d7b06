"""The ministry's read-only API over the national database; mounted only by the ministry's registry."""
import uuid
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Query

from registry.deps import API_PREFIX, ContextDep, SessionDep, require
from registry.national import service
from registry.national.models import (
    PROVINCE_PATTERN,
    NationalCaseFilters,
    NationalCaseRecordPublic,
    NationalCasesPublic,
    NationalInstitutionFilters,
    NationalInstitutionsPublic,
    PersonMatchesPublic,
)
from registry.security.permissions import Permission

router = APIRouter(prefix=f"{API_PREFIX}/national", tags=["national database"])
NationalReader = require(Permission.national_read)


@router.get("/cases", response_model=NationalCasesPublic)
def search_national_cases(filters: Annotated[NationalCaseFilters, Query()], session: SessionDep, ctx: ContextDep,
                          principal: NationalReader) -> NationalCasesPublic:
    """National records (one per province case, at its latest correction) by province, person (the provinces'
    blind index `person_ref`), status and death date range; audited."""
    return service.search_cases(session, ctx=ctx, principal=principal, filters=filters)


@router.get("/cases/{province}/{case_id}", response_model=NationalCaseRecordPublic)
def read_national_case(province: Annotated[str, Path(pattern=PROVINCE_PATTERN)], case_id: uuid.UUID,
                       session: SessionDep, ctx: ContextDep, principal: NationalReader) -> NationalCaseRecordPublic:
    """One province case with its cremation, certificates, ashes destination and interments; audited."""
    return service.get_case_record(session, ctx=ctx, principal=principal, province=province, case_id=case_id)


@router.get("/matches", response_model=PersonMatchesPublic)
def list_person_matches(session: SessionDep, ctx: ContextDep, principal: NationalReader,
                        province: Annotated[str | None, Query(pattern=PROVINCE_PATTERN)] = None,
                        offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
                        limit: Annotated[int, Query(ge=1, le=500)] = 100) -> PersonMatchesPublic:
    """One person registered in two provinces (the same `person_ref`): the pairs for the provinces to check;
    audited."""
    return service.list_matches(session, ctx=ctx, principal=principal, province=province, offset=offset, limit=limit)


@router.get("/institutions", response_model=NationalInstitutionsPublic)
def search_national_institutions(filters: Annotated[NationalInstitutionFilters, Query()], session: SessionDep,
                                 ctx: ContextDep, principal: NationalReader) -> NationalInstitutionsPublic:
    """Every province's institutions as they published them, with their disclosures: by name or address (`q`),
    province, type and region (a prefecture code takes in its counties), 20 a page; audited."""
    return service.search_institutions(session, ctx=ctx, principal=principal, filters=filters)


def mount(app: FastAPI) -> None:
    app.include_router(router)
