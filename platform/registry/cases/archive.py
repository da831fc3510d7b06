"""Backfill of archived cases (历史数据补录): paper and legacy records since 2010, imported in batches.

Each record is checked on its own with the rules of a declaration and answered on its own: created, already
present (the same archive record imported before, so re-running an import changes nothing), or refused with
its errors. The created ones are closed and archived at once, and each gets its audit entry and a
`case.imported` event, which ships to the national database like any other; each refused one gets a refused
audit entry. All of one batch is one transaction.

Records may name a suspended or closed institution: they are history, imported by a provincial admin, and the
rule that a registrar of an inactive institution records nothing (`access.check_institution_active`) is about
work done there now.
"""
import re
from dataclasses import replace

from pydantic import ValidationError
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlmodel import Session

from registry import messages
from registry.audit import service as audit
from registry.cases import declarations
from registry.cases.models import (
    ARCHIVE_REF_PATTERN,
    ArchivedCase,
    ArchiveImportResult,
    ArchiveRecordResult,
    Case,
    CaseStatus,
    ImportOutcome,
)
from registry.context import TenantContext
from registry.db_types import utcnow
from registry.errors import DomainError, localize, problem_from_pydantic
from registry.security.auth import Principal

ACTION = "case.import"
BY_ARCHIVE_REF = (sa_select(Case.archive_ref, Case.id, Case.id_number_index, Case.deceased_name, Case.birth_date)
                   .where(Case.archive_ref.in_(bindparam("refs", expanding=True))))


def import_archive(session: Session, *, ctx: TenantContext, principal: Principal, records: list[dict],
                   dry_run: bool = False, language: str = messages.ZH) -> ArchiveImportResult:
    """Check every record, write those that pass in one unit of write (unless `dry_run`, which writes nothing),
    and answer each, its refusals worded in `language`."""
    results: dict[int, ArchiveRecordResult] = {}
    candidates: list[tuple[int, declarations.Declaration]] = []
    for index, record in enumerate(records):
        outcome = checked(ctx, principal, index, record)
        if isinstance(outcome, ArchiveRecordResult):
            results[index] = outcome
        else:
            candidates.append((index, outcome))

    if dry_run:
        _check(session, ctx, candidates, results, dry_run=True)
        session.rollback()
        answer = _answer(results, len(records), language)
    else:
        claims = [*declarations.claims(ctx, [d for _, d in candidates]),
                  *(f"case-archive:{d.row['archive_ref']}" for _, d in candidates)]
        with ctx.journal.write(session, actor=principal.subject, claims=claims) as unit:
            accepted = _check(session, ctx, candidates, results, dry_run=False)
            answer = _answer(results, len(records), language)
            declarations.write(session, unit, accepted, refusals=[refusal_record(principal, r) for r in answer
                                                                  if r.outcome == ImportOutcome.refused])
        ctx.metrics.cases_imported.inc(len(accepted))
    count = {outcome: sum(r.outcome == outcome for r in answer) for outcome in ImportOutcome}
    return ArchiveImportResult(dry_run=dry_run, created=count[ImportOutcome.created] + count[ImportOutcome.valid],
                               already_present=count[ImportOutcome.already_present],
                               refused=count[ImportOutcome.refused], results=answer)


def _check(session: Session, ctx: TenantContext, candidates: list[tuple[int, declarations.Declaration]],
           results: dict[int, ArchiveRecordResult], *, dry_run: bool) -> list[declarations.Declaration]:
    """Answer each candidate in `results` (against the registry and the rest of the import); the accepted."""
    refs = [d.row["archive_ref"] for _, d in candidates]
    stored = {row.archive_ref: row for row in session.connection().execute(BY_ARCHIVE_REF, {"refs": refs or [""]})}
    fresh: list[tuple[int, declarations.Declaration]] = []
    first_of: dict[str, int] = {}
    for index, declaration in candidates:
        ref = declaration.row["archive_ref"]
        if ref in first_of:
            results[index] = refused(index, ref, [{
                "field": "archive_ref", "rule": "archive_ref_repeated",
                "message": f"record {first_of[ref]} of this import has the same archive_ref"}])
        elif ref in stored:
            results[index] = already_imported(index, declaration, stored[ref])
        else:
            first_of[ref] = index
            fresh.append((index, declaration))
    accepted = []
    for (index, declaration), outcome in zip(fresh, declarations.screen(session, ctx, [d for _, d in fresh])):
        ref = declaration.row["archive_ref"]
        if isinstance(outcome, DomainError):
            results[index] = refused(index, ref, [p.as_dict() for p in outcome.problems])
        else:
            accepted.append(declaration)
            results[index] = ArchiveRecordResult(
                index=index, archive_ref=ref, case_id=None if dry_run else outcome.id,  # a dry run creates no case
                outcome=ImportOutcome.valid if dry_run else ImportOutcome.created)
    return accepted


def _answer(results: dict[int, ArchiveRecordResult], count: int, language: str) -> list[ArchiveRecordResult]:
    return [worded(results[index], language) for index in range(count)]


def checked(ctx: TenantContext, principal: Principal, index: int,
            record: dict) -> declarations.Declaration | ArchiveRecordResult:
    """The record as an archived case ready to be written, or its refusal by the rules of a declaration."""
    try:
        data = ArchivedCase.model_validate(record)
    except ValidationError as exc:
        ref = record.get("archive_ref") if isinstance(record, dict) else None
        # an archive_ref that is not one is not repeated back (nor written to the audit trail)
        shown = ref if isinstance(ref, str) and re.fullmatch(ARCHIVE_REF_PATTERN, ref) else None
        return refused(index, shown, [problem_from_pydantic(e) for e in exc.errors()])
    return archived(ctx, principal, data)


def archived(ctx: TenantContext, principal: Principal, data: ArchivedCase) -> declarations.Declaration:
    """A declaration whose case is closed and archived from the start, carrying its archive number."""
    declaration = declarations.prepare(ctx, principal, data)
    changes = {"status": CaseStatus.closed, "archived_at": utcnow(), "archive_ref": data.archive_ref}
    # the public case differs only by these: copied, not built and validated again (a backfill makes millions)
    return replace(declaration, row={**declaration.row, **changes}, public=declaration.public.model_copy(update=changes),
                   action=ACTION, event_type="case.imported")


def already_imported(index: int, declaration: declarations.Declaration, stored) -> ArchiveRecordResult:
    """The same archive record again (same person and ID index): nothing to do. Another person under the same
    archive number is an error in one of the two imports."""
    ref = declaration.row["archive_ref"]
    same = (stored.id_number_index == declaration.index and stored.deceased_name == declaration.data.deceased_name
            and stored.birth_date == declaration.data.birth_date)
    if same:
        return ArchiveRecordResult(index=index, archive_ref=ref, outcome=ImportOutcome.already_present,
                                   case_id=stored.id)
    return refused(index, ref, [{"field": "archive_ref", "rule": "archive_ref_conflict",
                                  "message": f"archive_ref {ref} was imported as case {stored.id}, "
                                             "a different person", "existing_case_id": str(stored.id)}])


def refused(index: int, ref: str | None, problems: list[dict]) -> ArchiveRecordResult:
    return ArchiveRecordResult(index=index, archive_ref=ref, outcome=ImportOutcome.refused, errors=problems)


def worded(result: ArchiveRecordResult, language: str) -> ArchiveRecordResult:
    if not result.errors:
        return result
    return result.model_copy(update={"errors": [localize(problem, language) for problem in result.errors]})


def refusal_record(principal: Principal, result: ArchiveRecordResult) -> dict:
    # no personal data in the audit trail: the archive number and the rules broken
    return dict(actor=principal.subject, action=ACTION, object_type="archive_record",
                object_id=result.archive_ref or f"#{result.index}", result=audit.REFUSED,
                detail={"errors": [{k: e.get(k) for k in ("field", "rule")} for e in result.errors]})
