"""Complaints: citizens file and follow their own under /my/complaints; staff handle them under /complaints."""
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from registry import errors
from registry.complaints import queries, service
from registry.complaints.models import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    ComplaintAnswer,
    ComplaintClose,
    ComplaintCountsPublic,
    ComplaintCreate,
    ComplaintCreated,
    ComplaintFeedback,
    ComplaintPublic,
    ComplaintsPublic,
    ComplaintStatus,
    EscalationSweep,
)
from registry.deps import (
    API_PREFIX,
    Citizen,
    ComplaintsAnswerer,
    ComplaintsCounter,
    ComplaintsHandler,
    ComplaintsReader,
    ContextDep,
    Offset,
    SessionDep,
)

router = APIRouter(prefix=API_PREFIX, tags=["complaints"])
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="complaints a page")]
Year = Annotated[int, Query(ge=2000, le=2100, description="the year complaints were received in (China time)")]


def _page(ctx, rows_and_total) -> ComplaintsPublic:
    rows, total = rows_and_total
    return ComplaintsPublic(data=[queries.to_public(ctx, row) for row in rows], count=total)


@router.post("/my/complaints", response_model=ComplaintCreated, status_code=status.HTTP_201_CREATED,
             responses={404: {"model": errors.ErrorBody, "description": "No such institution"}})
def submit(body: ComplaintCreate, session: SessionDep, ctx: ContextDep, principal: Citizen) -> ComplaintCreated:
    return service.submit(session, ctx=ctx, principal=principal, data=body)


@router.get("/my/complaints", response_model=ComplaintsPublic)
def list_own(session: SessionDep, ctx: ContextDep, principal: Citizen, offset: Offset = 0,
             limit: Limit = PAGE_SIZE) -> ComplaintsPublic:
    return _page(ctx, queries.list_complaints(session, conditions=[queries.Complaint.owner_subject == principal.subject],
                                              offset=offset, limit=limit))


@router.get("/my/complaints/{complaint_id}", response_model=ComplaintPublic)
def get_own(complaint_id: uuid.UUID, session: SessionDep, ctx: ContextDep, principal: Citizen) -> ComplaintPublic:
    return queries.to_public(ctx, queries.get_own(session, principal=principal, complaint_id=complaint_id))


@router.post("/my/complaints/{complaint_id}/feedback", response_model=ComplaintPublic)
def give_feedback(complaint_id: uuid.UUID, body: ComplaintFeedback, session: SessionDep, ctx: ContextDep,
                  principal: Citizen) -> ComplaintPublic:
    return service.feedback(session, ctx=ctx, principal=principal, complaint_id=complaint_id, data=body)


@router.get("/complaints", response_model=ComplaintsPublic)
def list_for_staff(session: SessionDep, ctx: ContextDep, principal: ComplaintsReader,
                   status: ComplaintStatus | None = None, institution_id: uuid.UUID | None = None,
                   overdue: bool | None = None, offset: Offset = 0, limit: Limit = PAGE_SIZE) -> ComplaintsPublic:
    """The queue: overdue first, then the oldest; an institution's staff see their institution's only."""
    return _page(ctx, queries.list_complaints(session, conditions=queries.staff_scope(principal), status=status,
                                              institution_id=institution_id, overdue=overdue, offset=offset,
                                              limit=limit))


@router.get("/complaints/counts", response_model=ComplaintCountsPublic)
def counts(year: Year, session: SessionDep, principal: ComplaintsCounter) -> ComplaintCountsPublic:
    """Per institution: received, upheld, overdue and answered on time, for the credit evaluation (信用评价)."""
    return queries.counts(session, year=year)


@router.post("/complaints/escalations", response_model=EscalationSweep)
def escalate(session: SessionDep, ctx: ContextDep, principal: ComplaintsHandler) -> EscalationSweep:
    """Send every complaint past its time limit up to the province (idempotent; also run on a schedule)."""
    return EscalationSweep(escalated=service.escalate_overdue(session, ctx=ctx))


@router.get("/complaints/{complaint_id}", response_model=ComplaintPublic)
def get_for_staff(complaint_id: uuid.UUID, session: SessionDep, ctx: ContextDep,
                  principal: ComplaintsReader) -> ComplaintPublic:
    return queries.to_public(ctx, queries.get_for_staff(session, principal=principal, complaint_id=complaint_id))


@router.post("/complaints/{complaint_id}/assign", response_model=ComplaintPublic)
def assign(complaint_id: uuid.UUID, session: SessionDep, ctx: ContextDep,
           principal: ComplaintsHandler) -> ComplaintPublic:
    return service.assign(session, ctx=ctx, principal=principal, complaint_id=complaint_id)


@router.post("/complaints/{complaint_id}/answer", response_model=ComplaintPublic)
def answer(complaint_id: uuid.UUID, body: ComplaintAnswer, session: SessionDep, ctx: ContextDep,
           principal: ComplaintsAnswerer) -> ComplaintPublic:
    return service.answer(session, ctx=ctx, principal=principal, complaint_id=complaint_id, data=body)


@router.post("/complaints/{complaint_id}/close", response_model=ComplaintPublic)
def close(complaint_id: uuid.UUID, body: ComplaintClose, session: SessionDep, ctx: ContextDep,
          principal: ComplaintsHandler) -> ComplaintPublic:
    return service.close(session, ctx=ctx, principal=principal, complaint_id=complaint_id, data=body)
