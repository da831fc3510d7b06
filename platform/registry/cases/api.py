"""Cases: routes parse and authorise, the service does the work."""
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from registry.cases import archive, bulk, declarations, service
from registry.cases.models import (
    ArchiveImport,
    ArchiveImportResult,
    BulkImport,
    BulkImportResult,
    CaseCorrectionPublic,
    CaseCorrectionRequest,
    CaseCreate,
    CaseFilters,
    CasePublic,
    CaseSearch,
    CasesPublic,
    IdNumberDisclosure,
    ImportProof,
)
from registry.deps import (
    API_PREFIX,
    AuditReader,
    CasesImporter,
    CasesReader,
    CasesReviewer,
    CasesWriter,
    ContextDep,
    DeclarationsDep,
    LanguageDep,
    SessionDep,
    require,
)
from registry.security.permissions import Permission

router = APIRouter(prefix=f"{API_PREFIX}/cases", tags=["cases"])
PersonalDataReader = require(Permission.personal_data_read)


@router.post("", response_model=CasePublic, status_code=status.HTTP_201_CREATED)
async def declare_case(body: CaseCreate, ctx: ContextDep, principal: CasesWriter,
                       group_commit: DeclarationsDep) -> Response:
    """Declare a death; likely duplicates are refused with 409 naming the existing case."""
    # the busiest write: declarations arriving together are written in one transaction (registry.group_commit)
    case = await group_commit.submit(declarations.prepare(ctx, principal, body))
    # the answer was built from the validated row, so it is serialised once here
    return Response(case.model_dump_json(), status_code=status.HTTP_201_CREATED, media_type="application/json")


@router.post("/imports", response_model=ArchiveImportResult)
def import_archived_cases(body: ArchiveImport, session: SessionDep, ctx: ContextDep, principal: CasesImporter,
                          language: LanguageDep, dry_run: bool = False) -> ArchiveImportResult:
    """Backfill archived cases (历史数据补录), up to 100 per request: each record is answered on its own
    (created, already_present, refused with its errors); `dry_run=true` checks them and writes nothing."""
    return archive.import_archive(session, ctx=ctx, principal=principal, records=body.records, dry_run=dry_run,
                                  language=language)


@router.post("/imports/bulk", response_model=BulkImportResult)
def import_archived_cases_in_bulk(body: BulkImport, session: SessionDep, ctx: ContextDep, principal: CasesImporter,
                                  language: LanguageDep, dry_run: bool = False) -> BulkImportResult:
    """Backfill at database speed (`fsp backfill`): up to 2,000 archived cases per request, checked like a
    declaration and written set-wise in one transaction; the counts and the refused records with their errors.
    `dry_run=true` checks them and writes nothing."""
    return bulk.import_batch(session, ctx=ctx, principal=principal, records=body.records, dry_run=dry_run,
                             language=language)


@router.get("", response_model=CasesPublic)
def list_cases(filters: Annotated[CaseFilters, Query()], session: SessionDep, ctx: ContextDep,
               principal: CasesReader) -> CasesPublic:
    """Cases, newest first, narrowed by status, institution, name, death date range or archive number; `count`
    is the number of matches over all pages. An ID number is searched with `POST /cases/search`."""
    return _page(*service.search_cases(session, ctx=ctx, principal=principal, search=CaseSearch(**dict(filters))))


@router.post("/search", response_model=CasesPublic)
def search_cases(search: CaseSearch, session: SessionDep, ctx: ContextDep, principal: CasesReader) -> CasesPublic:
    """The filters of `GET /cases`, plus `id_number`: in the body, so no URL or access log holds the number.
    A lookup by ID number is audited."""
    return _page(*service.search_cases(session, ctx=ctx, principal=principal, search=search))


def _page(rows: list, total: int) -> CasesPublic:
    return CasesPublic(data=[CasePublic.of(c) for c in rows], count=total)


# only a UUID is a case: GET /cases/imports is a method not allowed there, not a case named "imports"
@router.get("/{case_id:uuid}", response_model=CasePublic)
def get_case(case_id: uuid.UUID, session: SessionDep, principal: CasesReader) -> CasePublic:
    return CasePublic.of(service.get_visible_case(session, principal=principal, case_id=case_id))


@router.get("/{case_id}/import-proof", response_model=ImportProof)
def prove_import(case_id: uuid.UUID, session: SessionDep, ctx: ContextDep, principal: AuditReader) -> ImportProof:
    """For auditors: the audit entry of the bulk import that wrote this case, whether that entry is intact and
    sealed, and whether the case's facts still hash to what it recorded."""
    return bulk.prove(session, ctx=ctx, case_id=case_id)


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
def register_case(case_id: uuid.UUID, session: SessionDep, ctx: ContextDep, principal: CasesReviewer) -> CasePublic:
    """Reviewer confirms a declaration: declared → registered."""
    return CasePublic.of(service.transition(session, ctx=ctx, principal=principal, case_id=case_id,
                                            action="register"))


@router.post("/{case_id}/close", response_model=CasePublic)
def close_case(case_id: uuid.UUID, session: SessionDep, ctx: ContextDep, principal: CasesWriter) -> CasePublic:
    """cremated or buried → closed."""
    return CasePublic.of(service.transition(session, ctx=ctx, principal=principal, case_id=case_id,
                                            action="close"))


@router.post("/{case_id}/archive", response_model=CasePublic)
def archive_case(case_id: uuid.UUID, session: SessionDep, ctx: ContextDep, principal: CasesReviewer) -> CasePublic:
    return CasePublic.of(service.archive_case(session, ctx=ctx, principal=principal, case_id=case_id))
