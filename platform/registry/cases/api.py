"""Cases: routes parse and authorise, the service does the work."""
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from registry.cases import archive, service
from registry.cases.models import (
    ArchiveImport, ArchiveImportResult, CaseCorrectionPublic, CaseCorrectionRequest, CaseCreate, CasePublic,
    CasesPublic, CaseStatus, IdNumberDisclosure,
)
from registry.deps import (
    API_PREFIX, CasesImporter, CasesReader, CasesReviewer, CasesWriter, ContextDep, Offset, SessionDep, require,
)
from registry.security.permissions import Permission

router = APIRouter(prefix=f"{API_PREFIX}/cases", tags=["cases"])
PersonalDataReader = require(Permission.personal_data_read)


@router.post("", response_model=CasePublic, status_code=status.HTTP_201_CREATED)
async def declare_case(body: CaseCreate, request: Request, ctx: ContextDep, principal: CasesWriter) -> Response:
    """Declare a death; likely duplicates are refused with 409 naming the existing case."""
    # the busiest write: declarations arriving together are written in one transaction (registry.group_commit)
    case = await request.app.state.case_declarations.submit(service.prepare_declaration(ctx, principal, body))
    # the answer was built from the validated row, so it is serialised once here
    return Response(case.model_dump_json(), status_code=status.HTTP_201_CREATED, media_type="application/json")


@router.post("/imports", response_model=ArchiveImportResult)
def import_archived_cases(body: ArchiveImport, session: SessionDep, ctx: ContextDep, principal: CasesImporter,
                          dry_run: bool = False) -> ArchiveImportResult:
    """Backfill archived cases (历史数据补录), up to 100 per request: each record is answered on its own
    (created, already_present, refused with its errors); `dry_run=true` checks them and writes nothing."""
    return archive.import_archive(session, ctx=ctx, principal=principal, records=body.records, dry_run=dry_run)


@router.get("", response_model=CasesPublic)
def list_cases(session: SessionDep, ctx: ContextDep, principal: CasesReader, status: CaseStatus | None = None,
               id_number: Annotated[str | None, Query(max_length=40)] = None,
               institution_id: uuid.UUID | None = None,
               archive_ref: Annotated[str | None, Query(max_length=64)] = None,
               offset: Offset = 0,
               limit: Annotated[int, Query(ge=1, le=500)] = 100) -> CasesPublic:
    rows = service.list_cases(session, ctx=ctx, principal=principal, status=status, id_number=id_number,
                              institution_id=institution_id, archive_ref=archive_ref, offset=offset, limit=limit)
    return CasesPublic(data=[CasePublic.of(c) for c in rows], count=len(rows))


# only a UUID is a case: GET /cases/imports is a method not allowed there, not a case named "imports"
@router.get("/{case_id:uuid}", response_model=CasePublic)
def get_case(case_id: uuid.UUID, session: SessionDep, principal: CasesReader) -> CasePublic:
    return CasePublic.of(service.get_visible_case(session, principal=principal, case_id=case_id))


@router.get("/{case_id}/id-number", response_model=IdNumberDisclosure)
def disclose_id_number(case_id: uuid.UUID, session: SessionDep, ctx: ContextDep,
                       principal: PersonalDataReader) -> IdNumberDisclosure:
    """The unmasked ID number; the read is audited."""
    return service.disclose_id_number(session, ctx=ctx, principal=principal, case_id=case_id)


@router.post("/{case_id}/corrections", response_model=CasePublic)
def correct_case(case_id: uuid.UUID, body: CaseCorrectionRequest, session: SessionDep, ctx: ContextDep,
                 principal: CasesWriter) -> CasePublic:
    return CasePublic.of(service.correct_case(session, ctx=ctx, principal=principal, case_id=case_id,
                                              changes=body.changes, reason=body.reason))


@router.get("/{case_id}/corrections", response_model=list[CaseCorrectionPublic])
def list_corrections(case_id: uuid.UUID, session: SessionDep, principal: CasesReader) -> list[CaseCorrectionPublic]:
    service.get_visible_case(session, principal=principal, case_id=case_id)
    return [CaseCorrectionPublic(**c.model_dump(exclude={"fields"}), fields=c.fields.split(","))
            for c in service.list_corrections(session, case_id=case_id)]


@router.post("/{case_id}/register", response_model=CasePublic)
def register_case(case_id: uuid.UUID, session: SessionDep, principal: CasesReviewer) -> CasePublic:
    """Reviewer confirms a declaration: declared → registered."""
    return CasePublic.of(service.transition(session, principal=principal, case_id=case_id, action="register"))


@router.post("/{case_id}/close", response_model=CasePublic)
def close_case(case_id: uuid.UUID, session: SessionDep, principal: CasesWriter) -> CasePublic:
    """cremated or buried → closed."""
    return CasePublic.of(service.transition(session, principal=principal, case_id=case_id, action="close"))


@router.post("/{case_id}/archive", response_model=CasePublic)
def archive_case(case_id: uuid.UUID, session: SessionDep, principal: CasesReviewer) -> CasePublic:
    return CasePublic.of(service.archive_case(session, principal=principal, case_id=case_id))
