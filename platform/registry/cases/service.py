"""Declare, look up, correct and move cases through their status flow."""
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy import and_, bindparam, func, insert, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from registry import journal
from registry.cases.models import (
    Case, CaseCorrection, CaseCreate, CaseFacts, CasePublic, CaseSearch, CaseStatus, IdNumberDisclosure,
)
from registry.context import TenantContext
from registry.db_types import new_id, utcnow
from registry.errors import Conflict, DomainError, Invalid
from registry.cases.access import (
    check_institution_active, check_institution_binding, get_visible_case, get_writable_case,
)
from registry.institutions.models import Institution, InstitutionStatus
from registry.remains.models import Handover
from registry.security.auth import Principal
from registry.security.masking import mask_id_number, mask_phone
from registry.security.permissions import INSTITUTION_BOUND

log = logging.getLogger(__name__)

DUPLICATE_DEATH_WINDOW = timedelta(days=5)
CHINA_TIME = ZoneInfo("Asia/Shanghai")
ID_CONTEXT = "cases.id_number"
PHONE_CONTEXT = "cases.informant_phone"

# statements of the declaration path, built once: rebuilding them per request costs more than running them
_NO_CASE = uuid.UUID(int=0)  # "exclude nothing": never a real case id
_SAME_PERSON = and_(
    Case.deceased_name == bindparam("name"), Case.birth_date == bindparam("birth"),
    col(Case.death_at) >= bindparam("death_from"), col(Case.death_at) <= bindparam("death_to"),
)
_DUPLICATES_BY_PERSON = (sa_select(Case.id, Case.id_number_index)
                         .where(_SAME_PERSON, Case.id != bindparam("exclude")).limit(2))
_DUPLICATES_BY_ID_OR_PERSON = (sa_select(Case.id, Case.id_number_index)
                               .where(or_(Case.id_number_index == bindparam("index"), _SAME_PERSON),
                                      Case.id != bindparam("exclude")).limit(2))
_INSTITUTION_STATUS = sa_select(Institution.status).where(Institution.id == bindparam("institution_id"))
_INSERT_CASE = insert(Case.__table__)


def search_cases(session: Session, *, ctx: TenantContext, principal: Principal,
                 search: CaseSearch) -> tuple[list[Case], int]:
    """One page of the cases matching `search`, newest first, and how many match in all.

    An ID number is looked up through its blind index, never decrypted; such a lookup is audited (without the
    number), so trying numbers one by one shows in the audit log.
    """
    query = select(Case)
    if principal.roles & INSTITUTION_BOUND:
        # its own cases, and those handed over to it (ashes received for interment)
        received = select(Handover.case_id).where(Handover.to_institution_id == principal.institution_id)
        query = query.where(or_(Case.institution_id == principal.institution_id, col(Case.id).in_(received)))
    for column, value in ((Case.institution_id, search.institution_id), (Case.status, search.status),
                          (Case.deceased_name, search.deceased_name), (Case.archive_ref, search.archive_ref)):
        if value is not None:
            query = query.where(column == value)
    if search.died_from:
        query = query.where(col(Case.death_at) >= _start_of_day(search.died_from))
    if search.died_to:
        query = query.where(col(Case.death_at) < _start_of_day(search.died_to + timedelta(days=1)))
    if search.id_number:
        query = query.where(Case.id_number_index == ctx.blind_index(search.id_number.strip()))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page = list(session.exec(query.order_by(col(Case.created_at).desc(), col(Case.id))
                             .offset(search.offset).limit(search.limit)))
    if search.id_number:
        session.rollback()  # the write that audits the lookup starts its own transaction
        head = journal.begin(session)
        journal.written(session, head, actor=principal.subject, action="case.lookup_id_number", object_type="case",
                        object_id=page[0].id if page else "-", event_type=None, payload=None,
                        detail={"found": total})
        session.commit()
    return page, total


def _start_of_day(day: date) -> datetime:
    """Midnight of a day in China Standard Time, the calendar people mean."""
    return datetime.combine(day, time(), tzinfo=CHINA_TIME)


def _find_duplicate(session: Session, *, ctx: TenantContext, facts: CaseFacts, exclude: uuid.UUID | None = None,
                    index: str | None = None) -> tuple[uuid.UUID, str] | None:
    """Same ID number; or same name and birth date with deaths within five days. One indexed query."""
    if index is None and facts.id_number:
        index = ctx.blind_index(facts.id_number)
    params = {"name": facts.deceased_name, "birth": facts.birth_date, "exclude": exclude or _NO_CASE,
              "death_from": facts.death_at - DUPLICATE_DEATH_WINDOW,
              "death_to": facts.death_at + DUPLICATE_DEATH_WINDOW}
    if index:
        matches = session.connection().execute(_DUPLICATES_BY_ID_OR_PERSON, {**params, "index": index}).all()
    else:
        matches = session.connection().execute(_DUPLICATES_BY_PERSON, params).all()
    for case_id, case_index in matches:
        if index and case_index == index:
            return case_id, "id_number"
    return (matches[0][0], "name_birth_death") if matches else None


def _fact_columns(facts: CaseFacts, ctx: TenantContext) -> dict:
    """The stored columns of validated facts, with personal data encrypted, indexed and masked."""
    columns = facts.model_dump(exclude={"id_number", "informant"})
    number = facts.id_number
    columns.update(
        id_number_cipher=ctx.encrypt(ID_CONTEXT, number) if number else None,
        id_number_index=ctx.blind_index(number) if number else None,
        id_number_masked=mask_id_number(number) if number else None,
        informant_name=facts.informant.name, informant_relation=facts.informant.relation,
        informant_phone_cipher=ctx.encrypt(PHONE_CONTEXT, facts.informant.phone),
        informant_phone_masked=mask_phone(facts.informant.phone),
    )
    return columns


def _duplicate_keys(ctx: TenantContext, facts: CaseFacts, index: str | None = None) -> list[str]:
    """What two writers must not check for duplicates at the same time: the same ID number, the same person."""
    keys = [f"case-person:{facts.deceased_name}|{facts.birth_date.isoformat()}"]
    if facts.id_number:
        keys.append(f"case-id-number:{index or ctx.blind_index(facts.id_number)}")
    return keys


def _refuse_duplicate(session: Session, ctx: TenantContext, facts: CaseFacts, exclude: uuid.UUID | None = None,
                      index: str | None = None) -> None:
    _raise_duplicate(_find_duplicate(session, ctx=ctx, facts=facts, exclude=exclude, index=index))


def _raise_duplicate(found: tuple[uuid.UUID, str] | None) -> None:
    if found:
        existing_id, rule = found
        field = "id_number" if rule == "id_number" else "deceased_name"
        raise Conflict(field, f"duplicate_{rule}", f"possible duplicate of case {existing_id}",
                       existing_case_id=str(existing_id))


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
        """`other`, if this declaration would be its likely duplicate (the rules of `_find_duplicate`)."""
        if self.index and self.index == other.index:
            return other.row["id"], "id_number"
        mine, theirs = self.data, other.data
        if (mine.deceased_name == theirs.deceased_name and mine.birth_date == theirs.birth_date
                and abs(mine.death_at - theirs.death_at) <= DUPLICATE_DEATH_WINDOW):
            return other.row["id"], "name_birth_death"
        return None

    def journal_record(self) -> dict:
        """What `journal.written` records of it: the audit entry's fields and its event (the public case)."""
        return dict(actor=self.principal.subject, action=self.action, object_type="case", object_id=self.row["id"],
                    event_type=self.event_type, payload=event_payload(self.public, self.person_ref))


def event_payload(public: CasePublic, person_ref: str | None) -> dict:
    """A case event as the outbox keeps it and the ministry receives it: the masked case and the person's
    cross-province blind index, never the number."""
    return {**public.model_dump(mode="json"), "person_ref": person_ref}


def prepare_declaration(ctx: TenantContext, principal: Principal, data: CaseCreate) -> Declaration:
    """Everything about a declaration that needs no database: done before any lock is taken."""
    now = utcnow()
    row = dict(_fact_columns(data, ctx), id=new_id(), status=CaseStatus.declared, institution_id=data.institution_id,
               created_at=now, updated_at=now, archived_at=None, archive_ref=None)
    return Declaration(principal=principal, data=data, row=row, public=CasePublic.of_row(row),
                       person_ref=ctx.person_ref(data.id_type, data.id_number))


def declare_case(session: Session, *, ctx: TenantContext, principal: Principal, data: CaseCreate) -> CasePublic:
    """Declare a death (status declared), refusing likely duplicates with 409 naming the existing case."""
    (result,) = declare_together(session, ctx=ctx, declarations=[prepare_declaration(ctx, principal, data)])
    if isinstance(result, Exception):
        raise result
    return result


def declare_together(session: Session, *, ctx: TenantContext,
                     declarations: list[Declaration]) -> list[CasePublic | DomainError]:
    """Write declarations in one transaction and commit it; per declaration, its case or its refusal.

    Each is checked as if it came alone, and also against those accepted before it in the same call. Until
    the write head is taken for the audit entries and events at the very end, only declarations of the same
    people or ID numbers wait for each other.
    """
    claim_declarations(session, ctx, declarations)
    results = screen(session, ctx, declarations)
    write(session, [d for d, result in zip(declarations, results) if not isinstance(result, DomainError)])
    session.commit()
    ctx.metrics.cases_registered.inc(sum(not isinstance(result, DomainError) for result in results))
    return results


def claim_declarations(session: Session, ctx: TenantContext, declarations: list[Declaration], *extra: str) -> None:
    """Serialise with every writer of the same people or ID numbers (and `extra` keys) until the commit."""
    journal.claim(session, *{key for d in declarations for key in _duplicate_keys(ctx, d.data, d.index)}, *extra)


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
            _refuse_duplicate(session, ctx, declaration.data, index=declaration.index)
            _raise_duplicate(next(filter(None, map(declaration.duplicates, accepted)), None))
        except DomainError as refusal:
            results.append(refusal)
            continue
        accepted.append(declaration)
        results.append(declaration.public)
    return results


def write(session: Session, declarations: list[Declaration], refusals: list[dict] | None = None) -> None:
    """Insert the screened declarations with their audit entries and events (and audit `refusals`, journal
    records of refused items); the caller commits."""
    if declarations:
        # Core insert: the busiest write of the registry skips the ORM unit of work
        session.connection().execute(_INSERT_CASE, [d.row for d in declarations])
    records = [d.journal_record() for d in declarations] + (refusals or [])
    if records:
        journal.written_many(session, records)


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


def _current_facts(case: Case, ctx: TenantContext) -> dict:
    return {
        "deceased_name": case.deceased_name, "sex": case.sex, "ethnicity": case.ethnicity, "id_type": case.id_type,
        "id_number": ctx.decrypt(ID_CONTEXT, case.id_number_cipher) if case.id_number_cipher else None,
        "birth_date": case.birth_date, "household_region": case.household_region, "death_at": case.death_at,
        "death_place_type": case.death_place_type, "death_manner": case.death_manner,
        "cause_category": case.cause_category, "death_certificate_no": case.death_certificate_no,
        "informant": {"name": case.informant_name, "relation": case.informant_relation,
                      "phone": ctx.decrypt(PHONE_CONTEXT, case.informant_phone_cipher)},
    }


def _corrected_facts(session: Session, *, ctx: TenantContext, principal: Principal, case_id: uuid.UUID,
                     changes: dict) -> tuple[CaseFacts, datetime]:
    """The case's facts with the changes applied and validated, and the version of the case they start from."""
    case = get_writable_case(session, principal=principal, case_id=case_id)
    if case.archived_at is not None:
        raise Conflict("case_id", "archived", f"case {case_id} is archived and can no longer be corrected")
    unknown = sorted(set(changes) - set(CaseFacts.model_fields))
    if unknown:
        raise Invalid(f"changes.{unknown[0]}", "correctable_field", f"{unknown[0]} cannot be corrected this way")
    try:
        return CaseFacts.model_validate({**_current_facts(case, ctx), **changes}), case.updated_at
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or str(first.get("ctx", {}).get("field", "changes"))
        raise Invalid(f"changes.{field}", first["type"], first["msg"].removeprefix("Value error, ")) from None


def correct_case(session: Session, *, ctx: TenantContext, principal: Principal, case_id: uuid.UUID,
                 changes: dict, reason: str) -> Case:
    """Correct declared facts with a reason; the whole case is re-validated and re-checked for duplicates."""
    facts, seen_at = _corrected_facts(session, ctx=ctx, principal=principal, case_id=case_id, changes=changes)
    # writers start their transaction by claiming (SQLite must write first): the read above is let go
    session.rollback()
    journal.claim(session, *_duplicate_keys(ctx, facts))
    head = journal.begin(session)
    case = get_visible_case(session, principal=principal, case_id=case_id)
    if case.updated_at != seen_at:
        raise Conflict("case_id", "concurrent_change", f"case {case_id} changed while it was being corrected; "
                       "read it again and retry")
    _refuse_duplicate(session, ctx, facts, exclude=case.id)
    for name, value in _fact_columns(facts, ctx).items():
        setattr(case, name, value)
    case.updated_at = utcnow()
    session.add(case)
    correction = CaseCorrection(case_id=case.id, fields=",".join(sorted(changes)), reason=reason,
                                actor=principal.subject)
    session.add(correction)
    journal.written(session, head, actor=principal.subject, action="case.correct", object_type="case",
                    object_id=case.id, event_type="case.corrected",
                    payload=event_payload(CasePublic.of(case), ctx.person_ref(facts.id_type, facts.id_number)),
                    detail={"fields": sorted(changes), "reason": reason})
    session.commit()
    return case


def list_corrections(session: Session, *, case_id: uuid.UUID) -> list[CaseCorrection]:
    return list(session.exec(select(CaseCorrection).where(CaseCorrection.case_id == case_id)
                             .order_by(col(CaseCorrection.at))))


_TRANSITIONS = {
    "register": ({CaseStatus.declared}, CaseStatus.registered),
    "close": ({CaseStatus.cremated, CaseStatus.buried}, CaseStatus.closed),
}


def move_status(session: Session, head, *, principal: Principal, case: Case, allowed_from: set[CaseStatus],
                to: CaseStatus, action: str) -> None:
    """Advance a case in its flow inside the caller's transaction; a wrong state is a 409."""
    if case.archived_at is not None:
        raise Conflict("case_id", "archived", f"case {case.id} is archived")
    if case.status not in allowed_from:
        allowed = ", ".join(sorted(s.value for s in allowed_from))
        raise Conflict("status", "status_flow", f"case {case.id} is {case.status.value}; {action} needs {allowed}")
    previous, case.status, case.updated_at = case.status, to, utcnow()
    session.add(case)
    journal.written(session, head, actor=principal.subject, action=f"case.{action}", object_type="case",
                    object_id=case.id, event_type=f"case.{to.value}",
                    payload={"case_id": str(case.id), "from": previous.value, "to": to.value})


def transition(session: Session, *, principal: Principal, case_id: uuid.UUID, action: str) -> Case:
    """register (declared → registered) or close (cremated|buried → closed)."""
    head = journal.begin(session)
    case = get_writable_case(session, principal=principal, case_id=case_id)
    allowed_from, to = _TRANSITIONS[action]
    move_status(session, head, principal=principal, case=case, allowed_from=allowed_from, to=to, action=action)
    session.commit()
    return case


def archive_case(session: Session, *, principal: Principal, case_id: uuid.UUID) -> Case:
    """Archive a closed case: it stays readable and can no longer change."""
    head = journal.begin(session)
    case = get_writable_case(session, principal=principal, case_id=case_id)
    if case.status != CaseStatus.closed or case.archived_at is not None:
        raise Conflict("status", "status_flow", f"only a closed, unarchived case can be archived; {case.id} is "
                                                f"{case.status.value}{' and archived' if case.archived_at else ''}")
    case.archived_at = case.updated_at = utcnow()
    session.add(case)
    journal.written(session, head, actor=principal.subject, action="case.archive", object_type="case",
                    object_id=case.id, event_type="case.archived", payload={"case_id": str(case.id)})
    session.commit()
    return case


def disclose_id_number(session: Session, *, ctx: TenantContext, principal: Principal,
                       case_id: uuid.UUID) -> IdNumberDisclosure:
    """The full ID number, for a reviewer; every such read is audited."""
    head = journal.begin(session)
    case = get_visible_case(session, principal=principal, case_id=case_id)
    number = ctx.decrypt(ID_CONTEXT, case.id_number_cipher) if case.id_number_cipher else None
    journal.written(session, head, actor=principal.subject, action="case.read_id_number", object_type="case",
                    object_id=case.id, event_type=None, payload=None)
    session.commit()
    return IdNumberDisclosure(case_id=case.id, id_type=case.id_type, id_number=number)

