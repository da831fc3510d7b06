"""Who may read and who may change a case: the institution binding of registrars, their institution's status,
and the hand-over of a case's ashes to the institution receiving them."""
import uuid

from sqlmodel import Session, col, or_, select

from registry.cases.models import Case
from registry.errors import Forbidden, NotFound
from registry.institutions.models import Institution, InstitutionStatus
from registry.remains.models import Handover
from registry.security.auth import Principal
from registry.security.permissions import INSTITUTION_BOUND


def check_institution_binding(principal: Principal, institution_id: uuid.UUID, *, field: str = "institution_id") -> None:
    """A registrar works for one institution only; refuse writes for any other."""
    if not principal.roles & INSTITUTION_BOUND:
        return
    if principal.institution_id is None:
        raise Forbidden(field, "institution_binding", "your registrar account is not bound to any institution")
    if principal.institution_id != institution_id:
        raise Forbidden(field, "institution_binding",
                        f"your account is bound to institution {principal.institution_id}, not {institution_id}")


def check_institution_active(principal: Principal, institution_id: uuid.UUID | None,
                             status: InstitutionStatus | None) -> None:
    """A registrar acts only while its institution is active: a suspended or closed one declares and records
    nothing (its cases stay readable). Others are not held to it: a provincial admin's archive import of a
    closed institution's records is history, not work done there."""
    if principal.roles & INSTITUTION_BOUND and status != InstitutionStatus.active:
        state = status.value if status else "not registered"
        raise Forbidden("authorization", "institution_active",
                        f"institution {institution_id} is {state}: its registrars can no longer declare or record")


def require_active_institution(session: Session, principal: Principal) -> None:
    """`check_institution_active` for the principal's own institution."""
    if principal.roles & INSTITUTION_BOUND:
        institution = session.get(Institution, principal.institution_id) if principal.institution_id else None
        check_institution_active(principal, principal.institution_id, institution.status if institution else None)


def readable_by(principal: Principal) -> list:
    """The conditions on cases this principal may read: a registrar reads its institution's cases and those
    handed over to it (see registry.remains); roles not bound to an institution read every case."""
    if not principal.roles & INSTITUTION_BOUND:
        return []
    received = select(Handover.case_id).where(Handover.to_institution_id == principal.institution_id)
    return [or_(Case.institution_id == principal.institution_id, col(Case.id).in_(received))]


def get_visible_case(session: Session, *, principal: Principal, case_id: uuid.UUID) -> Case:
    """The case, if this principal may read it (`readable_by`). Any other case is not found, exactly like a case
    that does not exist: a refusal reveals nothing."""
    case = session.exec(select(Case).where(Case.id == case_id, *readable_by(principal))).first()
    if case is None:
        raise NotFound("case_id", f"case {case_id} not found")
    return case


def get_writable_case(session: Session, *, principal: Principal, case_id: uuid.UUID) -> Case:
    """The case, for a principal who may change it: a registrar changes only its own institution's cases, and
    only while that institution is active. (An institution a case was handed over to reads it: 403, not 404.)"""
    case = get_visible_case(session, principal=principal, case_id=case_id)
    check_institution_binding(principal, case.institution_id, field="case_id")
    require_active_institution(session, principal)
    return case
