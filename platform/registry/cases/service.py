"""Look up, correct and move cases through their status flow; declarations are `declarations.py`."""
import uuid
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, col, select

from registry.cases import duplicates
from registry.cases.access import get_visible_case, get_writable_case, readable_by
from registry.cases.fields import ID_CONTEXT, event_payload, stored_columns, stored_facts
from registry.cases.models import (
    Case,
    CaseCorrection,
    CaseFacts,
    CasePublic,
    CaseSearch,
    CaseStatus,
    IdNumberDisclosure,
)
from registry.context import TenantContext
from registry.db_types import china_days, utcnow
from registry.errors import Conflict, Invalid
from registry.journal import Write
from registry.security.auth import Principal


def search_cases(session: Session, *, ctx: TenantContext, principal: Principal,
                 search: CaseSearch) -> tuple[list[Case], int]:
    """One page of the cases matching `search`, newest first, and how many match in all.

    An ID number is looked up through its blind index, never decrypted; such a lookup is audited (without the
    number), so trying numbers one by one shows in the audit log.
    """
    query = select(Case).where(*readable_by(principal))
    for column, value in ((Case.institution_id, search.institution_id), (Case.status, search.status),
                          (Case.deceased_name, search.deceased_name), (Case.archive_ref, search.archive_ref)):
        if value is not None:
            query = query.where(column == value)
    query = query.where(*china_days(col(Case.death_at), search.died_from, search.died_to))
    if search.id_number:
        query = query.where(Case.id_number_index == ctx.blind_index(search.id_number.strip()))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page = list(session.exec(query.order_by(col(Case.created_at).desc(), col(Case.id))
                             .offset(search.offset).limit(search.limit)))
    if search.id_number:
        for case in page:
            session.expunge(case)  # the unit lets the reads go: the page keeps what was read, no reloads
        with ctx.journal.write(session, actor=principal.subject) as unit:
            unit.record(action="case.lookup_id_number", object_type="case", object_id=page[0].id if page else "-",
                        detail={"found": total})
    return page, total



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
        return CaseFacts.model_validate({**stored_facts(case, ctx), **changes}), case.updated_at
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or str(first.get("ctx", {}).get("field", "changes"))
        raise Invalid(f"changes.{field}", first["type"], first["msg"].removeprefix("Value error, ")) from None


def correct_case(session: Session, *, ctx: TenantContext, principal: Principal, case_id: uuid.UUID,
                 changes: dict, reason: str) -> Case:
    """Correct declared facts with a reason; the whole case is re-validated and re-checked for duplicates."""
    facts, seen_at = _corrected_facts(session, ctx=ctx, principal=principal, case_id=case_id, changes=changes)
    # the read above is let go: the unit claims the people and numbers first, then takes the head
    with ctx.journal.write(session, actor=principal.subject, claims=duplicates.claims(ctx, facts)) as unit:
        unit.take_head()  # the case is read under the head: no other write changes it meanwhile
        case = get_visible_case(session, principal=principal, case_id=case_id)
        if case.updated_at != seen_at:
            raise Conflict("case_id", "concurrent_change", f"case {case_id} changed while it was being corrected; "
                           "read it again and retry")
        duplicates.refuse(session, ctx, facts, exclude=case.id)
        for name, value in stored_columns(facts, ctx).items():
            setattr(case, name, value)
        case.updated_at = utcnow()
        session.add(case)
        session.add(CaseCorrection(case_id=case.id, fields=",".join(sorted(changes)), reason=reason,
                                   actor=principal.subject))
        unit.record(action="case.correct", object_type="case", object_id=case.id, event_type="case.corrected",
                    payload=event_payload(CasePublic.of(case), ctx.person_ref(facts.id_type, facts.id_number)),
                    detail={"fields": sorted(changes), "reason": reason})
    return case


def list_corrections(session: Session, *, case_id: uuid.UUID) -> list[CaseCorrection]:
    return list(session.exec(select(CaseCorrection).where(CaseCorrection.case_id == case_id)
                             .order_by(col(CaseCorrection.at))))


_TRANSITIONS = {
    "register": ({CaseStatus.declared}, CaseStatus.registered),
    "close": ({CaseStatus.cremated, CaseStatus.buried}, CaseStatus.closed),
}


def move_status(session: Session, unit: Write, *, case: Case, allowed_from: set[CaseStatus], to: CaseStatus,
                action: str) -> None:
    """Advance a case in its flow inside an open unit of write; a wrong state is a 409."""
    if case.archived_at is not None:
        raise Conflict("case_id", "archived", f"case {case.id} is archived")
    if case.status not in allowed_from:
        allowed = ", ".join(sorted(s.value for s in allowed_from))
        raise Conflict("status", "status_flow", f"case {case.id} is {case.status.value}; {action} needs {allowed}")
    previous, case.status, case.updated_at = case.status, to, utcnow()
    session.add(case)
    unit.record(action=f"case.{action}", object_type="case", object_id=case.id, event_type=f"case.{to.value}",
                payload={"case_id": str(case.id), "from": previous.value, "to": to.value})


def transition(session: Session, *, ctx: TenantContext, principal: Principal, case_id: uuid.UUID,
               action: str) -> Case:
    """register (declared → registered) or close (cremated|buried → closed)."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        case = get_writable_case(session, principal=principal, case_id=case_id)
        allowed_from, to = _TRANSITIONS[action]
        move_status(session, unit, case=case, allowed_from=allowed_from, to=to, action=action)
    return case


def archive_case(session: Session, *, ctx: TenantContext, principal: Principal, case_id: uuid.UUID) -> Case:
    """Archive a closed case: it stays readable and can no longer change."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        case = get_writable_case(session, principal=principal, case_id=case_id)
        if case.status != CaseStatus.closed or case.archived_at is not None:
            raise Conflict("status", "status_flow", f"only a closed, unarchived case can be archived; {case.id} is "
                           f"{case.status.value}{' and archived' if case.archived_at else ''}")
        case.archived_at = case.updated_at = utcnow()
        session.add(case)
        unit.record(action="case.archive", object_type="case", object_id=case.id, event_type="case.archived",
                    payload={"case_id": str(case.id)})
    return case


def disclose_id_number(session: Session, *, ctx: TenantContext, principal: Principal,
                       case_id: uuid.UUID) -> IdNumberDisclosure:
    """The full ID number, for a reviewer; every such read is audited."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        case = get_visible_case(session, principal=principal, case_id=case_id)
        number = ctx.decrypt(ID_CONTEXT, case.id_number_cipher) if case.id_number_cipher else None
        unit.record(action="case.read_id_number", object_type="case", object_id=case.id)
    return IdNumberDisclosure(case_id=case.id, id_type=case.id_type, id_number=number)
