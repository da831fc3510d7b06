"""Anyone holding a cremation certificate checks it: by number and check code, or by the signed QR code.

The answer is the certificate's status only: number, status, issue date, issuing institution. Nothing about the
deceased; not the cancel reason (free text staff write, which may name people); not the successor's number. A
wrong check code and an unknown number get the same answer, so numbers cannot be enumerated, and a client's
wrong guesses are limited (registry.limits.AttemptLimiter).
"""
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlmodel import Session, select

from registry.context import TenantContext
from registry.cremations import qr
from registry.cremations.models import Certificate, CertificateStatus, Cremation
from registry.cremations.service import NUMBER_TIMEZONE
from registry.institutions.models import Institution
from registry.security import crypto

MAX_NUMBER_LENGTH = 32


class Outcome(StrEnum):
    valid = "valid"          # 有效
    cancelled = "cancelled"  # 已作废
    reissued = "reissued"    # 已补发: cancelled, and a newer certificate replaces it
    not_found = "not_found"  # no such number, or a wrong check code: one answer for both
    forged = "forged"        # a QR whose signature is not the tenant's
    limited = "limited"      # too many wrong guesses from this client


@dataclass(frozen=True)
class Verification:
    outcome: Outcome
    number: str | None = None
    issued_on: date | None = None
    cancelled_on: date | None = None
    institution_name: str | None = None


def _china_date(moment) -> date:
    return moment.astimezone(NUMBER_TIMEZONE).date()


def verify_certificate(session: Session, *, number: str, check_code: str) -> Verification:
    """The public status of the certificate with this number, if the check code is its own."""
    number = number.strip().upper()
    if not number or len(number) > MAX_NUMBER_LENGTH:
        return Verification(Outcome.not_found)
    certificate = session.exec(select(Certificate).where(Certificate.number == number)).first()
    # compared in constant time whether or not the number exists: timing tells nothing either
    expected = certificate.check_code if certificate else qr.new_check_code()
    if not crypto.constant_time_equal(expected, qr.normalize_check_code(check_code)) or certificate is None:
        return Verification(Outcome.not_found)
    cremation = session.get(Cremation, certificate.cremation_id)
    institution = session.get(Institution, cremation.institution_id) if cremation else None
    outcome = Outcome.valid
    if certificate.status == CertificateStatus.cancelled:
        successor = session.exec(select(Certificate.id).where(Certificate.replaces_id == certificate.id)).first()
        outcome = Outcome.reissued if successor else Outcome.cancelled
    return Verification(outcome, number=certificate.number, issued_on=_china_date(certificate.issued_at),
                        cancelled_on=_china_date(certificate.cancelled_at) if certificate.cancelled_at else None,
                        institution_name=institution.name if institution else None)


def check(session: Session, *, ctx: TenantContext, client: str, number: str, check_code: str) -> Verification:
    """verify_certificate for a public client: limited per client, counted on /metrics, a trip of the limit
    audited (once per window: anyone can send these, one entry each would let anyone grow the audit trail)."""
    if ctx.certificate_attempts.blocked(client):
        return _counted(ctx, Verification(Outcome.limited))
    found = verify_certificate(session, number=number, check_code=check_code)
    if found.outcome == Outcome.not_found and ctx.certificate_attempts.failed(client):
        ctx.journal.refused(actor="anonymous", action="certificate.verify", status=429, problems=[
            {"field": "check_code", "rule": "too_many_attempts",
             "message": f"{ctx.certificate_attempts.max_failures} wrong certificate checks from one client"}])
    return _counted(ctx, found)


def check_qr(session: Session, *, ctx: TenantContext, client: str, c: str, s: str) -> Verification:
    """A scanned QR: its signature by this tenant's key first (a forgery is said so), then the live status."""
    try:
        claim = qr.parse_fields(c, s)
    except qr.UnreadableQr:
        return _counted(ctx, Verification(Outcome.forged))
    key = ctx.keys.certificate_key
    if claim.tenant_code != ctx.settings.tenant_code or not claim.signed_by(key.public_hex):
        return _counted(ctx, Verification(Outcome.forged))
    return check(session, ctx=ctx, client=client, number=claim.number, check_code=claim.check_code)


def _counted(ctx: TenantContext, found: Verification) -> Verification:
    ctx.metrics.certificate_verifications.labels(outcome=found.outcome.value).inc()
    return found


def signed_qr(ctx: TenantContext, certificate: Certificate, *, base_url: str) -> str:
    """The URL the certificate's QR code holds, signed with the tenant's certificate key."""
    c, s = qr.sign(ctx.keys.certificate_key, tenant_code=ctx.settings.tenant_code, number=certificate.number,
                   check_code=certificate.check_code, issued_on=_china_date(certificate.issued_at))
    return qr.url(base_url, c, s)

