"""The permit an approved cross-province transport of remains produces (遗体跨省运输证明): a number, a check code and
a QR signed with the tenant's SM2 key (registry.signed_documents, kind FSPP1).

The receiving province checks it offline with only the issuing tenant's public key (`fsp certificate verify`,
or `signed_documents.parse(text).signed_by(key)`), or online here by number and check code, or by the QR. The
public answer says where the remains go, on which day and in which vehicle; nothing about the deceased.
"""
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import func
from sqlmodel import Session, col, select

from registry import signed_documents
from registry.approvals import service
from registry.approvals.models import Approval, PermitPublic, TransportPermit
from registry.context import TenantContext
from registry.db_types import utcnow
from registry.journal import Write
from registry.security import crypto

NUMBER_MARK = "YZ"  # 运证: <tenant code>-YZ-<year>-<seq>
KIND = signed_documents.PERMIT
MAX_NUMBER_LENGTH = 32


def issue(session: Session, unit: Write, ctx: TenantContext, approval: Approval) -> TransportPermit:
    """The permit of an approved transport, in the unit of write that approves it (which holds the write head, so
    no two permits are numbered alike)."""
    transport = service.details(ctx, approval)
    issued_at = utcnow()
    prefix = f"{ctx.settings.tenant_code}-{NUMBER_MARK}-{service.china_day(issued_at).year}-"
    taken = session.exec(select(func.count()).select_from(TransportPermit)
                         .where(col(TransportPermit.number).startswith(prefix))).one()
    permit = TransportPermit(approval_id=approval.id, number=f"{prefix}{taken + 1:06d}", issued_at=issued_at,
                             check_code=signed_documents.new_check_code(), to_region=transport["to_region"],
                             planned_on=date.fromisoformat(transport["planned_on"]),
                             vehicle_plate=transport["vehicle_plate"])
    session.add(permit)
    unit.record(action="permit.issue", object_type="transport_permit", object_id=permit.id,
                event_type="permit.issued", payload={"approval_id": str(approval.id), "number": permit.number,
                                                     "from_region": approval.region_code,
                                                     "to_region": permit.to_region,
                                                     "planned_on": permit.planned_on.isoformat()})
    return permit


def of_approval(session: Session, approval: Approval) -> TransportPermit | None:
    return session.exec(select(TransportPermit).where(TransportPermit.approval_id == approval.id)).first()


def _extra(permit: TransportPermit) -> dict[str, str]:
    return {"to_region": permit.to_region, "planned_on": permit.planned_on.isoformat(),
            "vehicle_plate": permit.vehicle_plate}


def public(ctx: TenantContext, permit: TransportPermit, *, base_url: str) -> PermitPublic:
    """The permit with its QR text: the verification URL, signed with the tenant's key."""
    c, s = signed_documents.sign(KIND, ctx.keys.certificate_key, tenant_code=ctx.settings.tenant_code,
                                 number=permit.number, check_code=permit.check_code,
                                 issued_on=service.china_day(permit.issued_at), extra=_extra(permit))
    return PermitPublic(number=permit.number, check_code=permit.check_code, issued_at=permit.issued_at,
                        to_region=permit.to_region, planned_on=permit.planned_on, vehicle_plate=permit.vehicle_plate,
                        qr_text=signed_documents.url(KIND, base_url, c, s))


class Outcome(StrEnum):
    valid = "valid"
    not_found = "not_found"  # no such number, or a wrong check code: one answer for both
    forged = "forged"        # a QR whose signature is not the tenant's
    limited = "limited"      # too many wrong guesses from this client


@dataclass(frozen=True)
class Verification:
    outcome: Outcome
    permit: TransportPermit | None = None


def verify(session: Session, *, ctx: TenantContext, client: str, number: str, check_code: str) -> Verification:
    """A permit by number and check code, for anyone; wrong guesses share the client's budget with certificate
    checks (ctx.certificate_attempts: one budget for every signed document)."""
    attempts = ctx.certificate_attempts
    if attempts.blocked(client):
        return Verification(Outcome.limited)
    number = number.strip().upper()
    permit = None
    if number and len(number) <= MAX_NUMBER_LENGTH:
        permit = session.exec(select(TransportPermit).where(TransportPermit.number == number)).first()
    # compared in constant time whether or not the number exists: timing tells nothing either
    expected = permit.check_code if permit else signed_documents.new_check_code()
    if permit is None or not crypto.constant_time_equal(expected, signed_documents.normalize_check_code(check_code)):
        if attempts.failed(client):
            ctx.journal.refused(actor="anonymous", action="permit.verify", status=429, problems=[
                {"field": "check_code", "rule": "too_many_attempts",
                 "message": f"{attempts.max_failures} wrong document checks from one client"}])
        return Verification(Outcome.not_found)
    return Verification(Outcome.valid, permit)


def verify_qr(session: Session, *, ctx: TenantContext, client: str, text: str) -> Verification:
    """A scanned permit QR: the tenant's signature first (a forgery is said so), then the live record."""
    try:
        claim = signed_documents.parse(text, KIND)
    except signed_documents.UnreadableQr:
        return Verification(Outcome.forged)
    if claim.tenant_code != ctx.settings.tenant_code or not claim.signed_by(ctx.keys.certificate_key.public_hex):
        return Verification(Outcome.forged)
    return verify(session, ctx=ctx, client=client, number=claim.number, check_code=claim.check_code)
