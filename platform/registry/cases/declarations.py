"""Declaring deaths (逝者申报): the busiest write of the registry, alone or many in one transaction.

A declaration is validated, encrypted and masked before any lock (`prepare`); then, in one unit of write that
claims only the people and ID numbers concerned, each is checked as if it came alone and against those accepted
before it (`screen`), and the accepted ones are inserted with their audit entries and events (`write`).
"""
import logging
import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session

from registry.cases import duplicates
from registry.cases.access import check_institution_active, check_institution_binding
from registry.cases.fields import event_payload, stored_columns
from registry.cases.models import Case, CaseCreate, CasePublic, CaseStatus
from registry.context import TenantContext
from registry.db_types import new_id, utcnow
from registry.errors import DomainError, Invalid
from registry.institutions.models import Institution, InstitutionStatus
from registry.journal import Write
from registry.security.auth import Principal

log = logging.getLogger(__name__)

_INSTITUTION_STATUS = sa_select(Institution.status).where(Institution.id == bindparam("institution_id"))
_INSERT_CASE = insert(Case.__table__)


@dataclass
class Declaration:
    """A validated declaration with its personal data encrypted, indexed and masked: ready to be written."""

    principal: Principal
    data: CaseCreate
    row: dict
    public: CasePublic
    person_ref: str | None = None
    action: str = "case.declare"
    event_type: str = "case.declared"

    @property
    def index(self) -> str | None:
        """The ID number's blind index, as stored."""
        return self.row["id_number_index"]

    def duplicates(self, other: "Declaration") -> tuple[uuid.UUID, str] | None:
        """`other`, if this declaration would be its likely duplicate (the rules of `duplicates.find`)."""
        if self.index and self.index == other.index:
            return other.row["id"], "id_number"
        if duplicates.same_person(self.data, other.data):
            return other.row["id"], "name_birth_death"
        return None

    def record(self) -> dict:
        """What the unit of write records of it: its audit entry and its event (the public case)."""
        return dict(actor=self.principal.subject, action=self.action, object_type="case", object_id=self.row["id"],
                    event_type=self.event_type, payload=event_payload(self.public, self.person_ref))


def prepare(ctx: TenantContext, principal: Principal, data: CaseCreate) -> Declaration:
    """Everything about a declaration that needs no database: done before any lock is taken."""
    now = utcnow()
    row = dict(stored_columns(data, ctx), id=new_id(), status=CaseStatus.declared, institution_id=data.institution_id,
               created_at=now, updated_at=now, archived_at=None, archive_ref=None)
    return Declaration(principal=principal, data=data, row=row, public=CasePublic.of_row(row),
                       person_ref=ctx.person_ref(data.id_type, data.id_number))


def declare(session: Session, *, ctx: TenantContext, principal: Principal, data: CaseCreate) -> CasePublic:
    """Declare a death (status declared), refusing likely duplicates with 409 naming the existing case."""
    (result,) = declare_together(session, ctx=ctx, declarations=[prepare(ctx, principal, data)])
    if isinstance(result, Exception):
        raise result
    return result


def declare_together(session: Session, *, ctx: TenantContext,
                     declarations: list[Declaration]) -> list[CasePublic | DomainError]:
    """Write declarations in one unit of write; per declaration, its case or its refusal.

    Until the write head is taken for the audit entries and events at the very end, only declarations of the
    same people or ID numbers wait for each other.
    """
    with ctx.journal.write(session, actor=declarations[0].principal.subject,
                           claims=claims(ctx, declarations)) as unit:
        results = screen(session, ctx, declarations)
        write(session, unit, [d for d, result in zip(declarations, results) if not isinstance(result, DomainError)])
    ctx.metrics.cases_registered.inc(sum(not isinstance(result, DomainError) for result in results))
    return results


def claims(ctx: TenantContext, declarations: list[Declaration]) -> list[str]:
    """The natural keys of the declarations: writers of the same people or ID numbers wait for each other."""
    return sorted({key for d in declarations for key in duplicates.claims(ctx, d.data, d.index)})


def screen(session: Session, ctx: TenantContext, declarations: list[Declaration]) -> list[CasePublic | DomainError]:
    """Per declaration, in order: its case as it would be written, or why it is refused (its institution, the
    principal's binding and its institution's status, a likely duplicate in the registry or earlier in the list).
    Writes nothing."""
    connection = session.connection()
    institutions: dict[uuid.UUID, InstitutionStatus | None] = {}
    accepted: list[Declaration] = []
    results: list[CasePublic | DomainError] = []
    for declaration in declarations:
        institution_id = declaration.data.institution_id
        try:
            if institution_id not in institutions:
                institutions[institution_id] = connection.execute(
                    _INSTITUTION_STATUS, {"institution_id": institution_id}).scalar()
            if institutions[institution_id] is None:
                raise Invalid("institution_id", "exists", f"institution {institution_id} does not exist")
            check_institution_binding(declaration.principal, institution_id)
            check_institution_active(declaration.principal, institution_id, institutions[institution_id])
            duplicates.refuse(session, ctx, declaration.data, index=declaration.index)
            duplicates.refuse_found(next(filter(None, map(declaration.duplicates, accepted)), None))
        except DomainError as refusal:
            results.append(refusal)
            continue
        accepted.append(declaration)
        results.append(declaration.public)
    return results


def write(session: Session, unit: Write, declarations: list[Declaration], refusals: list[dict] = ()) -> None:
    """Insert the screened declarations and record them (and `refusals`, records of refused items) in `unit`."""
    if declarations:
        # Core insert: the busiest write of the registry skips the ORM unit of work
        session.connection().execute(_INSERT_CASE, [d.row for d in declarations])
    for record in [d.record() for d in declarations] + list(refusals):
        unit.record(**record)


def declare_batch(ctx: TenantContext, declarations: list[Declaration]) -> list[CasePublic | Exception]:
    """`declare_together` in a session of its own, for the group commit of the API.

    When the transaction as a whole fails (a value the database refuses, a lost connection), each declaration
    is written again alone: one bad declaration never fails the others.
    """
    ctx.metrics.declaration_batch.observe(len(declarations))
    try:
        return _declare_in_own_session(ctx, declarations)
    except Exception as exc:
        if len(declarations) == 1:
            return [exc]
        log.info("a batch of %d declarations failed (%s); writing them one by one", len(declarations),
                 type(exc).__name__)
    results: list[CasePublic | Exception] = []
    for declaration in declarations:
        try:
            results.extend(_declare_in_own_session(ctx, [declaration]))
        except Exception as exc:
            results.append(exc)
    return results


def _declare_in_own_session(ctx: TenantContext, declarations: list[Declaration]) -> list[CasePublic | DomainError]:
    with Session(ctx.engine, expire_on_commit=False) as session:
        return declare_together(session, ctx=ctx, declarations=declarations)
