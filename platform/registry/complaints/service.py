"""Complaint handling: a citizen files a complaint against an institution (received), the province's staff
assign it to the institution (assigned), the institution's staff or the bureau answer it within the time limit
(complaints.limits), past it the complaint goes up to the province (escalated), the complainant says whether the
answer resolved it, and staff close it recording whether it was upheld. Every step is one audited unit of write
with an outbox event carrying no personal data (ids, number, institution, category, status, dates)."""
import uuid
from datetime import datetime

from sqlmodel import Session, col, select

from registry import query_codes
from registry.complaints import limits
from registry.complaints.models import (
    OPEN,
    Complaint,
    ComplaintAnswer,
    ComplaintClose,
    ComplaintCreate,
    ComplaintCreated,
    ComplaintFeedback,
    ComplaintPublic,
    ComplaintStatus,
)
from registry.complaints.queries import china_day, effective_status, get_for_staff, get_own, to_public
from registry.context import TenantContext
from registry.db_types import utcnow
from registry.errors import Conflict
from registry.institutions.service import get_institution
from registry.journal import Write
from registry.security.auth import Principal
from registry.security.masking import mask_phone
from registry.security.permissions import INSTITUTION_BOUND

Status = ComplaintStatus
# who the overdue sweep writes as in the audit trail
SWEEP_ACTOR = "system:complaint-escalation"


def _event(unit: Write, row: Complaint, verb: str) -> None:
    payload = {"complaint_id": str(row.id), "number": row.number, "institution_id": str(row.institution_id),
               "category": row.category.value, "status": row.status.value, "due_on": row.due_on.isoformat(),
               "received_on": china_day(row.received_at).isoformat()}
    if row.answered_on_time is not None:
        payload["answered_on_time"] = row.answered_on_time
    if row.upheld is not None:
        payload["upheld"] = row.upheld
    unit.record(action=f"complaint.{verb}", object_type="complaint", object_id=row.id,
                event_type=f"complaint.{verb}", payload=payload)


def _number(received: datetime, complaint_id: uuid.UUID) -> str:
    # public, printed on the receipt: the day and part of the id, no sequence to count complaints by
    return f"TS{china_day(received):%Y%m%d}{complaint_id.hex[:8].upper()}"


def submit(session: Session, *, ctx: TenantContext, principal: Principal, data: ComplaintCreate,
           now: datetime | None = None) -> ComplaintCreated:
    """File a complaint; the answer carries the query code, shown this once."""
    now = now or utcnow()
    code = query_codes.new_code()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        get_institution(session, institution_id=data.institution_id)
        row = Complaint(institution_id=data.institution_id, owner_subject=principal.subject,
                        query_code_digest=query_codes.digest(code), category=data.category,
                        text_encrypted=ctx.encrypt("complaint.text", data.text),
                        contact_encrypted=ctx.encrypt("complaint.contact", data.contact),
                        contact_masked=mask_phone(data.contact), received_at=now, updated_at=now,
                        due_on=limits.answer_due(china_day(now)), number="")
        row.number = _number(now, row.id)
        session.add(row)
        _event(unit, row, "received")
    ctx.metrics.complaints.labels(event="received").inc()
    return ComplaintCreated(**to_public(ctx, row, now=now).model_dump(), query_code=code)


def _require(row: Complaint, today, *allowed: ComplaintStatus) -> None:
    status = effective_status(row, today)
    if status not in allowed:
        raise Conflict("status", "complaint_status",
                       f"complaint {row.number} is {status.value}; this needs {', '.join(s.value for s in allowed)}")


def assign(session: Session, *, ctx: TenantContext, principal: Principal, complaint_id: uuid.UUID,
           now: datetime | None = None) -> ComplaintPublic:
    """The province's staff pass a received complaint to the institution it is about."""
    now = now or utcnow()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        row = get_for_staff(session, principal=principal, complaint_id=complaint_id)
        _require(row, china_day(now), Status.received)
        row.status, row.assigned_at, row.updated_at = Status.assigned, now, now
        session.add(row)
        _event(unit, row, "assigned")
    ctx.metrics.complaints.labels(event="assigned").inc()
    return to_public(ctx, row, now=now)


def answer(session: Session, *, ctx: TenantContext, principal: Principal, complaint_id: uuid.UUID,
           data: ComplaintAnswer, now: datetime | None = None) -> ComplaintPublic:
    """The institution answers a complaint assigned to it; the province's bureau answers any open or escalated
    one (an escalated complaint is no longer the institution's to answer)."""
    now = now or utcnow()
    today = china_day(now)
    with ctx.journal.write(session, actor=principal.subject) as unit:
        row = get_for_staff(session, principal=principal, complaint_id=complaint_id)
        if principal.roles & INSTITUTION_BOUND:  # get_for_staff found it among its own institution's
            _require(row, today, Status.assigned)
        else:
            _require(row, today, Status.received, Status.assigned, Status.escalated)
        row.answer_encrypted = ctx.encrypt("complaint.answer", data.answer)
        row.answered_on_time = today <= row.due_on
        row.status, row.answered_at, row.updated_at = Status.answered, now, now
        session.add(row)
        _event(unit, row, "answered")
    ctx.metrics.complaints.labels(event="answered").inc()
    return to_public(ctx, row, now=now)


def feedback(session: Session, *, ctx: TenantContext, principal: Principal, complaint_id: uuid.UUID,
             data: ComplaintFeedback, now: datetime | None = None) -> ComplaintPublic:
    """The complainant says whether the answer resolved the complaint (audited, not an event of its own: the
    closing event carries the outcome)."""
    now = now or utcnow()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        row = get_own(session, principal=principal, complaint_id=complaint_id)
        _require(row, china_day(now), Status.answered, Status.closed)
        row.resolved, row.updated_at = data.resolved, now
        session.add(row)
        unit.record(action="complaint.feedback", object_type="complaint", object_id=row.id,
                    detail={"resolved": data.resolved})
    return to_public(ctx, row, now=now)


def close(session: Session, *, ctx: TenantContext, principal: Principal, complaint_id: uuid.UUID,
          data: ComplaintClose, now: datetime | None = None) -> ComplaintPublic:
    """The province's staff close an answered complaint, recording whether it was upheld."""
    now = now or utcnow()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        row = get_for_staff(session, principal=principal, complaint_id=complaint_id)
        _require(row, china_day(now), Status.answered)
        row.upheld, row.status, row.closed_at, row.updated_at = data.upheld, Status.closed, now, now
        session.add(row)
        _event(unit, row, "closed")
    ctx.metrics.complaints.labels(event="closed").inc()
    return to_public(ctx, row, now=now)


def escalate_overdue(session: Session, *, ctx: TenantContext, now: datetime | None = None) -> int:
    """Send every open complaint past its time limit up to the province; idempotent (an escalated complaint is
    not open any more), so it can run on a schedule and again at will. Returns how many went up."""
    now = now or utcnow()
    today = china_day(now)
    with ctx.journal.write(session, actor=SWEEP_ACTOR) as unit:
        rows = list(session.exec(select(Complaint).where(col(Complaint.status).in_(OPEN), Complaint.due_on < today)
                                 .order_by(col(Complaint.due_on), col(Complaint.id))))
        for row in rows:
            row.status, row.escalated_at, row.updated_at = Status.escalated, now, now
            session.add(row)
            _event(unit, row, "escalated")
    if rows:
        ctx.metrics.complaints.labels(event="escalated").inc(len(rows))
    return len(rows)
