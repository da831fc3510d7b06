"""Cremations and cremation certificates of a case: routes parse and authorise, the service does the work."""
import uuid

from fastapi import APIRouter, status

from registry.cremations import service
from registry.cremations.models import (
    CertificateReason,
    CertificatesPublic,
    CertificateStaffView,
    CremationCreate,
    CremationPublic,
)
from registry.deps import API_PREFIX, CasesReader, ContextDep, CremationsWriter, SessionDep

router = APIRouter(prefix=f"{API_PREFIX}/cases", tags=["cremations"])


@router.post("/{case_id}/cremation", response_model=CremationPublic, status_code=status.HTTP_201_CREATED)
def record_cremation(case_id: uuid.UUID, body: CremationCreate, session: SessionDep, ctx: ContextDep,
                     principal: CremationsWriter) -> CremationPublic:
    """Record the cremation of a registered case: registered → cremated."""
    return CremationPublic.model_validate(
        service.record_cremation(session, ctx=ctx, principal=principal, case_id=case_id, data=body))


@router.get("/{case_id}/cremation", response_model=CremationPublic)
def get_cremation(case_id: uuid.UUID, session: SessionDep, principal: CasesReader) -> CremationPublic:
    return CremationPublic.model_validate(service.get_cremation(session, principal=principal, case_id=case_id))


@router.get("/{case_id}/certificates", response_model=CertificatesPublic)
def list_certificates(case_id: uuid.UUID, session: SessionDep, principal: CasesReader) -> CertificatesPublic:
    """Every certificate of the case, newest first."""
    rows = service.list_certificates(session, principal=principal, case_id=case_id)
    return CertificatesPublic(data=[CertificateStaffView.model_validate(c) for c in rows], count=len(rows))


@router.post("/{case_id}/certificates", response_model=CertificateStaffView, status_code=status.HTTP_201_CREATED)
def issue_certificate(case_id: uuid.UUID, session: SessionDep, ctx: ContextDep,
                      principal: CremationsWriter) -> CertificateStaffView:
    """Issue the cremation certificate; 409 while a valid one exists."""
    return CertificateStaffView.model_validate(
        service.issue_certificate(session, ctx=ctx, principal=principal, case_id=case_id))


@router.post("/{case_id}/certificates/reissue", response_model=CertificateStaffView,
             status_code=status.HTTP_201_CREATED)
def reissue_certificate(case_id: uuid.UUID, body: CertificateReason, session: SessionDep, ctx: ContextDep,
                        principal: CremationsWriter) -> CertificateStaffView:
    """Cancel the valid certificate and issue a successor under a new number."""
    return CertificateStaffView.model_validate(
        service.reissue_certificate(session, ctx=ctx, principal=principal, case_id=case_id, reason=body.reason))


@router.post("/{case_id}/certificates/cancel", response_model=CertificateStaffView)
def cancel_certificate(case_id: uuid.UUID, body: CertificateReason, session: SessionDep, ctx: ContextDep,
                       principal: CremationsWriter) -> CertificateStaffView:
    """Cancel the valid certificate; the answer is the cancelled certificate."""
    return CertificateStaffView.model_validate(
        service.cancel_certificate(session, ctx=ctx, principal=principal, case_id=case_id, reason=body.reason))
