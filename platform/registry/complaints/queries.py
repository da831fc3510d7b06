"""Reading complaints: the complainant's own, the staff's queue (overdue first), the yearly counts per institution
for the credit evaluation, and what a query code reveals. Overdue is judged at the `now` of the reading, so a
complaint past its time limit reads as escalated even before the sweep (service.escalate_overdue) has run."""
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from registry.complaints.models import (
    OPEN,
    Complaint,
    ComplaintCountsPublic,
    ComplaintPublic,
    ComplaintStatus,
    InstitutionComplaintCounts,
)
from registry.db_types import CHINA_TZ, in_china_time, utcnow
from registry.errors import NotFound
from registry.query_codes import PublicStatus
from registry.security.auth import Principal
from registry.security.permissions import INSTITUTION_BOUND

if TYPE_CHECKING:  # the context builds the metrics, which read the overdue count from here
    from registry.context import TenantContext


def china_day(now: datetime | None) -> date:
    return in_china_time(now or utcnow()).date()


def is_overdue(row: Complaint, today: date) -> bool:
    if row.status == ComplaintStatus.escalated or row.answered_on_time is False:
        return True
    return row.status in OPEN and today > row.due_on


def effective_status(row: Complaint, today: date) -> ComplaintStatus:
    """Where the complaint stands at `today`: an open one past its limit is escalated, swept or not."""
    if row.status in OPEN and today > row.due_on:
        return ComplaintStatus.escalated
    return row.status


def overdue_condition(today: date):
    return or_(Complaint.status == ComplaintStatus.escalated, col(Complaint.answered_on_time).is_(False),
               and_(col(Complaint.status).in_(OPEN), Complaint.due_on < today))


def to_public(ctx: "TenantContext", row: Complaint, *, now: datetime | None = None) -> ComplaintPublic:
    today = china_day(now)
    return ComplaintPublic(
        id=row.id, number=row.number, institution_id=row.institution_id, category=row.category,
        text=ctx.decrypt("complaint.text", row.text_encrypted), contact=row.contact_masked,
        status=effective_status(row, today), overdue=is_overdue(row, today), received_at=row.received_at,
        due_on=row.due_on, assigned_at=row.assigned_at, escalated_at=row.escalated_at, answered_at=row.answered_at,
        answer=ctx.decrypt("complaint.answer", row.answer_encrypted) if row.answer_encrypted else None,
        answered_on_time=row.answered_on_time, resolved=row.resolved, upheld=row.upheld, closed_at=row.closed_at)


def _not_found(complaint_id: uuid.UUID) -> NotFound:
    return NotFound("complaint_id", f"complaint {complaint_id} not found")


def staff_scope(principal: Principal) -> list:
    """An institution's staff see the complaints against their institution; the province's staff see all."""
    if principal.roles & INSTITUTION_BOUND:
        return [Complaint.institution_id == principal.institution_id]
    return []


def get_own(session: Session, *, principal: Principal, complaint_id: uuid.UUID) -> Complaint:
    """The citizen's own complaint; anyone else's is not found, exactly like one that does not exist."""
    row = session.exec(select(Complaint).where(Complaint.id == complaint_id,
                                               Complaint.owner_subject == principal.subject)).first()
    if row is None:
        raise _not_found(complaint_id)
    return row


def get_for_staff(session: Session, *, principal: Principal, complaint_id: uuid.UUID) -> Complaint:
    row = session.exec(select(Complaint).where(Complaint.id == complaint_id, *staff_scope(principal))).first()
    if row is None:
        raise _not_found(complaint_id)
    return row


def list_complaints(session: Session, *, conditions: list, status: ComplaintStatus | None = None,
                    institution_id: uuid.UUID | None = None, overdue: bool | None = None, offset: int = 0,
                    limit: int = 20, now: datetime | None = None) -> tuple[list[Complaint], int]:
    """Complaints matching, overdue first, then the oldest first; and how many match over all pages. `status`
    is the effective one (an open complaint past its limit counts as escalated)."""
    today = china_day(now)
    late = overdue_condition(today)
    query = select(Complaint).where(*conditions)
    if institution_id is not None:
        query = query.where(Complaint.institution_id == institution_id)
    if status == ComplaintStatus.escalated:
        query = query.where(or_(Complaint.status == status, and_(col(Complaint.status).in_(OPEN),
                                                                 Complaint.due_on < today)))
    elif status in OPEN:
        query = query.where(Complaint.status == status, Complaint.due_on >= today)
    elif status is not None:
        query = query.where(Complaint.status == status)
    if overdue is not None:
        query = query.where(late if overdue else ~late)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    order = (case((late, 0), else_=1), col(Complaint.received_at), col(Complaint.id))
    return list(session.exec(query.order_by(*order).offset(offset).limit(limit))), total


def counts(session: Session, *, year: int, now: datetime | None = None) -> ComplaintCountsPublic:
    """Per institution, complaints received in `year` (China time): how many, upheld, overdue (escalated or
    answered late), answered on time. Institutions without complaints are not listed."""
    first = datetime(year, 1, 1, tzinfo=CHINA_TZ)
    after = datetime(year + 1, 1, 1, tzinfo=CHINA_TZ)
    today = china_day(now)

    def total(condition):
        return func.sum(case((condition, 1), else_=0))

    rows = session.exec(
        select(Complaint.institution_id, func.count(), total(col(Complaint.upheld).is_(True)),
               total(overdue_condition(today)), total(col(Complaint.answered_on_time).is_(True)))
        .where(Complaint.received_at >= first, Complaint.received_at < after)
        .group_by(Complaint.institution_id).order_by(Complaint.institution_id)).all()
    return ComplaintCountsPublic(year=year, data=[
        InstitutionComplaintCounts(institution_id=institution_id, year=year, received=received, upheld=upheld or 0,
                                   overdue=overdue or 0, answered_on_time=on_time or 0)
        for institution_id, received, upheld, overdue, on_time in rows])


def overdue_count(session: Session, *, now: datetime | None = None) -> int:
    """Complaints still waiting for an answer past their limit (the gauge on /metrics)."""
    today = china_day(now)
    waiting = or_(Complaint.status == ComplaintStatus.escalated,
                  and_(col(Complaint.status).in_(OPEN), Complaint.due_on < today))
    return session.exec(select(func.count()).select_from(Complaint).where(waiting)).one()


def status_by_code(session: Session, digest: str) -> PublicStatus | None:
    """What a query code reveals of a complaint: its number, where it stands and the answer's due day."""
    row = session.exec(select(Complaint).where(Complaint.query_code_digest == digest)).first()
    if row is None:
        return None
    status = effective_status(row, china_day(None))
    due = None if row.answered_at else datetime.combine(row.due_on, datetime.max.time(), tzinfo=CHINA_TZ)
    return PublicStatus(kind="complaint", number=row.number, status=status.value, updated_at=row.updated_at,
                        due_on=due)
