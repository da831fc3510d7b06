"""Approvals: a citizen submits and follows their own (/my/approvals); staff work the queue (/approvals)."""
import uuid
from datetime import date
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, model_validator
from pydantic import Field as Check

from registry import errors, messages
from registry.approvals import attachments, permits, service
from registry.approvals.models import (
    ApprovalCreate,
    ApprovalDetail,
    ApprovalFilters,
    ApprovalKind,
    ApprovalReceipt,
    ApprovalsPublic,
    AttachmentPublic,
    Opinion,
    Reasons,
)
from registry.cremations.certificates_api import public_base
from registry.deps import API_PREFIX, ContextDep, SessionDep, require
from registry.security.auth import Principal
from registry.security.permissions import Permission
from registry.validators import rule_error

router = APIRouter(prefix=API_PREFIX, tags=["approvals"])
Applicant = require(Permission.services_apply)
ApprovalsReader = require(Permission.approvals_read)
ApprovalsReviewer = require(Permission.approvals_review)
ApprovalsDecider = require(Permission.approvals_decide)
APPROVAL = "/approvals/{approval_id}"


@router.post("/approvals", response_model=ApprovalReceipt, status_code=status.HTTP_201_CREATED)
def submit_approval(body: ApprovalCreate, session: SessionDep, ctx: ContextDep, principal: Applicant) -> ApprovalReceipt:
    """Apply for a facility approval or a cross-province transport of remains; the answer holds the query code
    (查询码), shown this once."""
    return service.submit(session, ctx=ctx, principal=principal, data=body)


@router.get("/my/approvals", response_model=ApprovalsPublic)
def list_my_approvals(filters: Annotated[ApprovalFilters, Query()], session: SessionDep,
                      principal: Applicant) -> ApprovalsPublic:
    """The signed-in citizen's own applications."""
    return service.list_approvals(session, filters=filters, owner=principal.subject)


@router.get("/my/approvals/{approval_id}", response_model=ApprovalDetail)
def get_my_approval(approval_id: uuid.UUID, request: Request, session: SessionDep, ctx: ContextDep,
                    principal: Applicant) -> ApprovalDetail:
    """One of the citizen's own applications with its steps, attachments and (an approved transport) its permit;
    another's is not found."""
    return _detail(request, session, ctx, principal, service.find(session, principal=principal, approval_id=approval_id))


@router.get("/approvals", response_model=ApprovalsPublic)
def list_approvals(filters: Annotated[ApprovalFilters, Query()], session: SessionDep,
                   principal: ApprovalsReader) -> ApprovalsPublic:
    """The queue: by kind, status and overdue, the nearest deadline first."""
    return service.list_approvals(session, filters=filters)


@router.get(APPROVAL, response_model=ApprovalDetail)
def get_approval(approval_id: uuid.UUID, request: Request, session: SessionDep, ctx: ContextDep,
                 principal: ApprovalsReader) -> ApprovalDetail:
    """One application with its steps, attachments and permit, for the staff who handle it."""
    return _detail(request, session, ctx, principal, service.find(session, principal=principal, approval_id=approval_id))


def _detail(request: Request, session, ctx, principal: Principal, approval) -> ApprovalDetail:
    permit = permits.of_approval(session, approval)
    return service.detail(session, ctx=ctx, principal=principal, approval=approval,
                          attachments=attachments.listed(session, approval.id),
                          permit=permits.public(ctx, permit, base_url=public_base(request, ctx)) if permit else None)


_FILE_BODY = {"requestBody": {"required": True, "content": {t.value: {"schema": {"type": "string", "format": "binary"}}
                                                            for t in attachments.EXTENSIONS}}}


@router.post("/my/approvals/{approval_id}/attachments", response_model=AttachmentPublic,
             status_code=status.HTTP_201_CREATED, openapi_extra=_FILE_BODY)
async def add_attachment(approval_id: uuid.UUID, request: Request, session: SessionDep, ctx: ContextDep,
                         principal: Applicant) -> AttachmentPublic:
    """Add a PDF, JPEG or PNG (the file itself is the body; its type is read from its content) to one's own
    application while it is submitted or accepted; up to the tenant's attachment limit."""
    data = await request.body()
    return await anyio.to_thread.run_sync(lambda: attachments.attach(
        session, ctx=ctx, principal=principal, approval_id=approval_id, data=data))


def _file(session, ctx, principal: Principal, approval_id: uuid.UUID, attachment_id: uuid.UUID) -> Response:
    attachment, data, name = attachments.download(session, ctx=ctx, principal=principal, approval_id=approval_id,
                                                  attachment_id=attachment_id)
    return Response(data, media_type=attachment.media_type.value, headers={
        "Content-Disposition": f'attachment; filename="{name}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store"})


_FILE_ANSWER = {200: {"content": {t.value: {} for t in attachments.EXTENSIONS}, "description": "The file"}}


@router.get("/my/approvals/{approval_id}/attachments/{attachment_id}", response_class=Response,
            responses=_FILE_ANSWER)
def download_my_attachment(approval_id: uuid.UUID, attachment_id: uuid.UUID, session: SessionDep, ctx: ContextDep,
                           principal: Applicant) -> Response:
    """A file of one's own application; audited."""
    return _file(session, ctx, principal, approval_id, attachment_id)


@router.get(f"{APPROVAL}/attachments/{{attachment_id}}", response_class=Response, responses=_FILE_ANSWER)
def download_attachment(approval_id: uuid.UUID, attachment_id: uuid.UUID, session: SessionDep, ctx: ContextDep,
                        principal: ApprovalsReader) -> Response:
    """A file of an application, for the staff who handle it; audited."""
    return _file(session, ctx, principal, approval_id, attachment_id)


def _stepped(request: Request, session, ctx, principal: Principal, approval_id: uuid.UUID, step: str,
             remark: str | None, then=None) -> ApprovalDetail:
    approval = service.take_step(session, ctx=ctx, principal=principal, approval_id=approval_id, step=step,
                                 remark=remark, then=then)
    return _detail(request, session, ctx, principal, approval)


@router.post(f"{APPROVAL}/accept", response_model=ApprovalDetail)
def accept_approval(approval_id: uuid.UUID, request: Request, session: SessionDep, ctx: ContextDep, principal: ApprovalsReviewer,
                    body: Opinion | None = None) -> ApprovalDetail:
    """受理: the decision is then due within the time limit from today."""
    return _stepped(request, session, ctx, principal, approval_id, "accept", body.opinion if body else None)


@router.post(f"{APPROVAL}/refuse", response_model=ApprovalDetail)
def refuse_approval(approval_id: uuid.UUID, request: Request, body: Reasons, session: SessionDep, ctx: ContextDep,
                    principal: ApprovalsReviewer) -> ApprovalDetail:
    """不予受理, with the reasons the applicant reads."""
    return _stepped(request, session, ctx, principal, approval_id, "refuse", body.reasons)


@router.post(f"{APPROVAL}/review", response_model=ApprovalDetail)
def review_approval(approval_id: uuid.UUID, request: Request, session: SessionDep, ctx: ContextDep, principal: ApprovalsReviewer,
                    body: Opinion | None = None) -> ApprovalDetail:
    """审查 done, with the reviewer's opinion: the application waits for the decision."""
    return _stepped(request, session, ctx, principal, approval_id, "review", body.opinion if body else None)


@router.post(f"{APPROVAL}/approve", response_model=ApprovalDetail)
def approve_approval(approval_id: uuid.UUID, request: Request, session: SessionDep, ctx: ContextDep, principal: ApprovalsDecider,
                     body: Opinion | None = None) -> ApprovalDetail:
    """准予许可; an approved transport gets its permit in the same transaction."""
    def permit(session, unit, approval):
        if approval.kind == ApprovalKind.transport:
            permits.issue(session, unit, ctx, approval)

    return _stepped(request, session, ctx, principal, approval_id, "approve", body.opinion if body else None,
                    then=permit)


@router.post(f"{APPROVAL}/reject", response_model=ApprovalDetail)
def reject_approval(approval_id: uuid.UUID, request: Request, body: Reasons, session: SessionDep, ctx: ContextDep,
                    principal: ApprovalsDecider) -> ApprovalDetail:
    """不予许可, with the reasons the applicant reads."""
    return _stepped(request, session, ctx, principal, approval_id, "reject", body.reasons)


class PermitCheck(BaseModel):
    """A permit by its number and check code (查验码), or by the text of its QR code."""
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    number: str | None = Check(default=None, min_length=1, max_length=permits.MAX_NUMBER_LENGTH)
    check_code: str | None = Check(default=None, min_length=1, max_length=32)
    qr: str | None = Check(default=None, min_length=1, max_length=2000)

    @model_validator(mode="after")
    def _one_way(self):
        if self.qr is None and (self.number is None or self.check_code is None):
            raise rule_error("number" if self.number is None else "check_code", "missing",
                             "give number and check_code, or qr")
        return self


class PermitAnswer(BaseModel):
    """Whether the permit is the tenant's and where it takes the remains; nothing about the deceased."""
    status: permits.Outcome
    number: str | None = None
    issued_on: date | None = None
    from_tenant: str
    to_region: str | None = None
    planned_on: date | None = None
    vehicle_plate: str | None = None


@router.post("/permit-verifications", response_model=PermitAnswer,
             responses={429: {"model": errors.ErrorBody, "description": "Too many wrong checks from this client"}})
def verify_permit(body: PermitCheck, request: Request, session: SessionDep, ctx: ContextDep) -> PermitAnswer | JSONResponse:
    """Anyone (the receiving province's staff at arrival) checks a transport permit; no sign-in."""
    client = request.client.host if request.client else "unknown"
    if body.qr is not None:
        found = permits.verify_qr(session, ctx=ctx, client=client, text=body.qr)
    else:
        found = permits.verify(session, ctx=ctx, client=client, number=body.number, check_code=body.check_code)
    if found.outcome == permits.Outcome.limited:
        # answered here, not raised: every such refusal audited would let anyone grow the audit trail
        language = messages.language_of(request.headers.get("accept-language"))
        problem = errors.localize({"field": "check_code", "rule": "too_many_attempts",
                                   "message": "too many wrong checks from this client; try again later"}, language)
        return JSONResponse(errors.body(429, messages.title(429, language, "too many requests"), [problem]),
                            status_code=429, headers={"Retry-After": str(int(ctx.certificate_attempts.window))})
    permit = found.permit
    return PermitAnswer(status=found.outcome, from_tenant=ctx.settings.tenant_code,
                        **({"number": permit.number, "issued_on": service.china_day(permit.issued_at),
                            "to_region": permit.to_region, "planned_on": permit.planned_on,
                            "vehicle_plate": permit.vehicle_plate} if permit else {}))
