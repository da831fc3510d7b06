"""Record cremations and issue, reissue and cancel cremation certificates; every write is audited and published."""
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from registry import sequences
from registry.cases import access
from registry.cases import service as cases
from registry.cases.models import Case, CaseStatus
from registry.context import TenantContext
from registry.cremations.models import (
    Certificate,
    CertificatePublic,
    CertificateStatus,
    Cremation,
    CremationCreate,
    CremationPublic,
)
from registry.db_types import utcnow
from registry.errors import Conflict, Invalid, NotFound
from registry.institutions import service as institutions
from registry.institutions.models import CREMATING_TYPES, Institution
from registry.security.auth import Principal

# certificate numbers carry the year of issue as people in China read it
NUMBER_TIMEZONE = ZoneInfo("Asia/Shanghai")


def certificate_number(*, tenant_code: str, issued_at: datetime, seq: int) -> str:
    """`<tenant code>-<year>-<seq, six digits>`, e.g. 110000-2026-000042."""
    return f"{tenant_code}-{issued_at.astimezone(NUMBER_TIMEZONE).year}-{seq:06d}"


def find_cremation(session: Session, *, case_id: uuid.UUID) -> Cremation | None:
    """The case's cremation record, if any."""
    return session.exec(select(Cremation).where(Cremation.case_id == case_id)).first()


def get_cremation(session: Session, *, principal: Principal, case_id: uuid.UUID) -> Cremation:
    """The cremation of a case this principal may see, or NotFound."""
    access.get_visible_case(session, principal=principal, case_id=case_id)
    cremation = find_cremation(session, case_id=case_id)
    if cremation is None:
        raise NotFound("cremation", f"no cremation recorded for case {case_id}")
    return cremation


def record_cremation(session: Session, *, ctx: TenantContext, principal: Principal, case_id: uuid.UUID,
                     data: CremationCreate) -> Cremation:
    """Record the cremation of a registered case by its own institution, which cremates (a funeral home or a
    crematorium); the case becomes cremated."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        # another institution's case is not found, whatever its state: a refusal must not tell it exists
        case = access.get_writable_case(session, principal=principal, case_id=case_id)
        institution = session.get(Institution, data.institution_id)
        if institution is None:
            raise Invalid("institution_id", "exists", f"institution {data.institution_id} does not exist")
        access.check_institution_binding(principal, data.institution_id)
        institutions.require_type(institution, allowed=CREMATING_TYPES, field="institution_id", purpose="cremation")
        existing = find_cremation(session, case_id=case.id)
        if existing is not None:
            raise Conflict("case_id", "unique", f"case {case.id} already has cremation {existing.id}",
                           existing_id=str(existing.id))
        if not case.death_certificate_no:
            raise Invalid("death_certificate_no", "death_certificate_required",
                          f"case {case.id} has no death medical certificate number; correct the case first")
        if data.started_at < case.death_at:
            raise Invalid("started_at", "after_death", "started_at is before the death of the deceased")
        cases.move_status(session, unit, case=case, allowed_from={CaseStatus.registered},
                          to=CaseStatus.cremated, action="cremate")
        cremation = Cremation(case_id=case.id, **data.model_dump())
        session.add(cremation)
        unit.record(action="cremation.record", object_type="cremation",
                        object_id=cremation.id, event_type="cremation.recorded",
                        payload=CremationPublic.model_validate(cremation).model_dump(mode="json"))
    ctx.metrics.cremations.inc()
    return cremation


def list_certificates(session: Session, *, principal: Principal, case_id: uuid.UUID) -> list[Certificate]:
    """Every certificate of a visible case, valid and cancelled, newest first."""
    access.get_visible_case(session, principal=principal, case_id=case_id)
    return list(session.exec(select(Certificate).where(Certificate.case_id == case_id)
                             .order_by(col(Certificate.issued_at).desc(), col(Certificate.number).desc())))


def get_certificate(session: Session, *, principal: Principal, certificate_id: uuid.UUID) -> Certificate:
    """A certificate of a case this principal may read, or NotFound (whether it exists elsewhere or not)."""
    certificate = session.get(Certificate, certificate_id)
    if certificate is None:
        raise NotFound("certificate_id", f"certificate {certificate_id} does not exist")
    try:
        access.get_visible_case(session, principal=principal, case_id=certificate.case_id)
    except NotFound:
        raise NotFound("certificate_id", f"certificate {certificate_id} does not exist") from None
    return certificate


def any_issued(engine: Engine) -> bool:
    """Whether this tenant's database holds any certificate (False before its tables exist)."""
    try:
        with Session(engine) as session:
            return session.exec(select(Certificate.id).limit(1)).first() is not None
    except DBAPIError:  # no such table yet: nothing was issued
        return False


def _valid_certificate(session: Session, case_id: uuid.UUID) -> Certificate | None:
    query = select(Certificate).where(Certificate.case_id == case_id, Certificate.status == CertificateStatus.valid)
    return session.exec(query).first()


def _writable_cremation(session: Session, principal: Principal, case_id: uuid.UUID) -> tuple[Case, Cremation]:
    """The case and its cremation, for a principal working at the cremating institution."""
    case = access.get_writable_case(session, principal=principal, case_id=case_id)
    if case.archived_at is not None:
        raise Conflict("case_id", "archived", f"case {case.id} is archived")
    cremation = find_cremation(session, case_id=case.id)
    if cremation is None:
        raise Conflict("case_id", "cremation_required", f"case {case.id} has no cremation record")
    access.check_institution_binding(principal, cremation.institution_id)
    return case, cremation


def _new_certificate(session: Session, head: sequences.Head, *, ctx: TenantContext, case: Case,
                     cremation: Cremation, replaces: Certificate | None = None) -> Certificate:
    head.certificate_seq += 1  # numbered under the write head (saved with the unit): never twice the same
    issued_at = utcnow()
    certificate = Certificate(
        case_id=case.id, cremation_id=cremation.id, issued_at=issued_at,
        number=certificate_number(tenant_code=ctx.settings.tenant_code, issued_at=issued_at,
                                  seq=head.certificate_seq),
        replaces_id=replaces.id if replaces else None,
    )
    session.add(certificate)
    return certificate


def _cancel(session: Session, certificate: Certificate, reason: str) -> None:
    certificate.status, certificate.cancelled_at = CertificateStatus.cancelled, utcnow()
    certificate.cancel_reason = reason
    session.add(certificate)
    session.flush()  # explicit, not left to unit-of-work ordering: the partial unique index must see it cancelled first


def _public(certificate: Certificate) -> dict:
    return CertificatePublic.model_validate(certificate).model_dump(mode="json")


def issue_certificate(session: Session, *, ctx: TenantContext, principal: Principal,
                      case_id: uuid.UUID) -> Certificate:
    """Issue the first certificate of a cremated case; a case never has two valid ones."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        case, cremation = _writable_cremation(session, principal, case_id)
        valid = _valid_certificate(session, case.id)
        if valid is not None:
            raise Conflict("case_id", "one_valid_certificate",
                           f"case {case.id} already has valid certificate {valid.number}; reissue it instead",
                           existing_id=str(valid.id), existing_number=valid.number)
        certificate = _new_certificate(session, unit.head, ctx=ctx, case=case, cremation=cremation)
        unit.record(action="certificate.issue", object_type="certificate",
                        object_id=certificate.id, event_type="certificate.issued", payload=_public(certificate))
    ctx.metrics.certificates_issued.inc()
    return certificate


def _require_valid(session: Session, case_id: uuid.UUID, verb: str) -> Certificate:
    valid = _valid_certificate(session, case_id)
    if valid is None:
        raise Conflict("case_id", "valid_certificate_required",
                       f"case {case_id} has no valid certificate to {verb}")
    return valid


def reissue_certificate(session: Session, *, ctx: TenantContext, principal: Principal, case_id: uuid.UUID,
                        reason: str) -> Certificate:
    """Cancel the valid certificate and issue its successor under a new number, in one transaction."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        case, cremation = _writable_cremation(session, principal, case_id)
        previous = _require_valid(session, case.id, "reissue")
        _cancel(session, previous, reason)
        certificate = _new_certificate(session, unit.head, ctx=ctx, case=case, cremation=cremation, replaces=previous)
        unit.record(action="certificate.reissue", object_type="certificate",
                        object_id=certificate.id, event_type="certificate.reissued",
                        payload={**_public(certificate), "replaced": _public(previous)},
                        detail={"reason": reason, "replaced_id": str(previous.id)})
    ctx.metrics.certificates_cancelled.inc()
    ctx.metrics.certificates_issued.inc()
    return certificate


def cancel_certificate(session: Session, *, ctx: TenantContext, principal: Principal, case_id: uuid.UUID,
                       reason: str) -> Certificate:
    """Cancel the valid certificate with a reason; the case is then left without one."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        case, _ = _writable_cremation(session, principal, case_id)
        certificate = _require_valid(session, case.id, "cancel")
        _cancel(session, certificate, reason)
        unit.record(action="certificate.cancel", object_type="certificate",
                        object_id=certificate.id, event_type="certificate.cancelled", payload=_public(certificate),
                        detail={"reason": reason})
    ctx.metrics.certificates_cancelled.inc()
    return certificate
