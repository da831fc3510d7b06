"""Approvals: a citizen submits and follows their own (/my/approvals); staff work the queue (/approvals)."""
import uuid
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request, Response, status

from registry.approvals import attachments, service
from registry.approvals.models import (
    ApprovalCreate,
    ApprovalDetail,
    ApprovalFilters,
    ApprovalReceipt,
    ApprovalsPublic,
    AttachmentPublic,
    Opinion,
    Reasons,
)
from registry.deps import API_PREFIX, ContextDep, SessionDep, require
from registry.security.auth import Principal
from registry.security.permissions import Permission

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
def get_my_approval(approval_id: uuid.UUID, session: SessionDep, ctx: ContextDep, principal: Applicant) -> ApprovalDetail:
    """One of the citizen's own applications with its steps; another's is not found."""
    return _detail(session, ctx, principal, approval_id)


@router.get("/approvals", response_model=ApprovalsPublic)
def list_approvals(filters: Annotated[ApprovalFilters, Query()], session: SessionDep,
                   principal: ApprovalsReader) -> ApprovalsPublic:
    """The queue: by kind, status and overdue, the nearest deadline first."""
    return service.list_approvals(session, filters=filters)


@router.get(APPROVAL, response_model=ApprovalDetail)
def get_approval(approval_id: uuid.UUID, session: SessionDep, ctx: ContextDep,
                 principal: ApprovalsReader) -> ApprovalDetail:
    return _detail(session, ctx, principal, approval_id)


def _detail(session, ctx, principal: Principal, approval_id: uuid.UUID) -> ApprovalDetail:
    approval = service.find(session, principal=principal, approval_id=approval_id)
    return service.detail(session, ctx=ctx, principal=principal, approval=approval,
                          attachments=attachments.listed(session, approval.id))


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


def _stepped(session, ctx, principal: Principal, approval_id: uuid.UUID, step: str, remark: str | None,
             ) -> ApprovalDetail:
    approval = service.take_step(session, ctx=ctx, principal=principal, approval_id=approval_id, step=step,
                                 remark=remark)
    return service.detail(session, ctx=ctx, principal=principal, approval=approval,
                          attachments=attachments.listed(session, approval.id))


@router.post(f"{APPROVAL}/accept", response_model=ApprovalDetail)
def accept_approval(approval_id: uuid.UUID, session: SessionDep, ctx: ContextDep, principal: ApprovalsReviewer,
                    body: Opinion | None = None) -> ApprovalDetail:
    """受理: the decision is then due within the time limit from today."""
    return _stepped(session, ctx, principal, approval_id, "accept", body.opinion if body else None)


@router.post(f"{APPROVAL}/refuse", response_model=ApprovalDetail)
def refuse_approval(approval_id: uuid.UUID, body: Reasons, session: SessionDep, ctx: ContextDep,
                    principal: ApprovalsReviewer) -> ApprovalDetail:
    """不予受理, with the reasons the applicant reads."""
    return _stepped(session, ctx, principal, approval_id, "refuse", body.reasons)


@router.post(f"{APPROVAL}/review", response_model=ApprovalDetail)
def review_approval(approval_id: uuid.UUID, session: SessionDep, ctx: ContextDep, principal: ApprovalsReviewer,
                    body: Opinion | None = None) -> ApprovalDetail:
    """审查 done, with the reviewer's opinion: the application waits for the decision."""
    return _stepped(session, ctx, principal, approval_id, "review", body.opinion if body else None)


@router.post(f"{APPROVAL}/approve", response_model=ApprovalDetail)
def approve_approval(approval_id: uuid.UUID, session: SessionDep, ctx: ContextDep, principal: ApprovalsDecider,
                     body: Opinion | None = None) -> ApprovalDetail:
    """准予许可."""
    return _stepped(session, ctx, principal, approval_id, "approve", body.opinion if body else None)


@router.post(f"{APPROVAL}/reject", response_model=ApprovalDetail)
def reject_approval(approval_id: uuid.UUID, body: Reasons, session: SessionDep, ctx: ContextDep,
                    principal: ApprovalsDecider) -> ApprovalDetail:
    """不予许可, with the reasons the applicant reads."""
    return _stepped(session, ctx, principal, approval_id, "reject", body.reasons)
