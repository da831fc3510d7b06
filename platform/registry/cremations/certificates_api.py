"""A certificate by its id (for its print page) and the public verification of certificates (no sign-in)."""
import uuid
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from pydantic import Field as Check

from registry import errors, messages
from registry.cremations import service, verification
from registry.cremations.models import CertificatePrintable, Cremation
from registry.deps import API_PREFIX, CasesReader, ContextDep, SessionDep
from registry.institutions.models import Institution

router = APIRouter(prefix=API_PREFIX, tags=["certificates"])


class VerificationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str = Check(min_length=1, max_length=verification.MAX_NUMBER_LENGTH)
    check_code: str = Check(min_length=1, max_length=32)


class VerificationAnswer(BaseModel):
    """The status of a certificate, nothing about the person: `not_found` for an unknown number and a wrong
    check code alike; `reissued` says a newer certificate exists without its number."""
    status: verification.Outcome
    number: str | None
    issued_on: date | None
    cancelled_on: date | None
    institution_name: str | None


def public_base(request: Request, ctx) -> str:
    """Where the tenant's portal is reached: the configured public URL, else where this request came in (with the
    path the tenant's site is mounted at, e.g. /beijing under `fsp serve`)."""
    return ctx.settings.public_url or f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


@router.get("/certificates/{certificate_id}", response_model=CertificatePrintable)
def get_certificate(certificate_id: uuid.UUID, request: Request, session: SessionDep, ctx: ContextDep,
                    principal: CasesReader) -> CertificatePrintable:
    """A certificate of a case the caller may read, with what its print page shows: the cremating institution,
    the check code and the signed QR text."""
    certificate = service.get_certificate(session, principal=principal, certificate_id=certificate_id)
    cremation = session.get(Cremation, certificate.cremation_id)
    institution = session.get(Institution, cremation.institution_id)
    return CertificatePrintable.model_validate({
        **certificate.model_dump(), "institution_name": institution.name, "cremated_at": cremation.ended_at,
        "qr_text": verification.signed_qr(ctx, certificate, base_url=public_base(request, ctx))})


@router.post("/certificate-verifications", response_model=VerificationAnswer,
             responses={429: {"model": errors.ErrorBody, "description": "Too many wrong checks from this client"}})
def verify_certificate(body: VerificationRequest, request: Request, session: SessionDep,
                       ctx: ContextDep) -> VerificationAnswer | JSONResponse:
    """Anyone checks a certificate by its number and check code (查验码); no sign-in."""
    client = request.client.host if request.client else "unknown"
    found = verification.check(session, ctx=ctx, client=client, number=body.number, check_code=body.check_code)
    if found.outcome == verification.Outcome.limited:
        # answered here, not raised: every such refusal audited would let anyone grow the audit trail
        language = messages.language_of(request.headers.get("accept-language"))
        problem = errors.localize({"field": "check_code", "rule": "too_many_attempts",
                                   "message": "too many wrong checks from this client; try again later"}, language)
        return JSONResponse(errors.body(429, messages.title(429, language, "too many requests"), [problem]),
                            status_code=429, headers={"Retry-After": str(int(ctx.certificate_attempts.window))})
    return VerificationAnswer(status=found.outcome, number=found.number, issued_on=found.issued_on,
                              cancelled_on=found.cancelled_on, institution_name=found.institution_name)
