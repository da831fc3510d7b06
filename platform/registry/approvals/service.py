"""Approvals: a citizen submits, a reviewer accepts (受理) or refuses and reviews, the provincial admin approves or
rejects; every step is audited, published without personal data, and held to its legal time limit.

Services take `now` where a deadline matters, so overdue work is tested at any day without waiting for it.
"""
import json
import uuid
from datetime import date, datetime, time

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from registry import query_codes, regions
from registry.approvals import time_limits
from registry.approvals.models import (
    OPEN_STATUSES,
    Approval,
    ApprovalCreate,
    ApprovalDetail,
    ApprovalFilters,
    ApprovalKind,
    ApprovalPublic,
    ApprovalReceipt,
    ApprovalsPublic,
    ApprovalStatus,
    ApprovalStep,
    StepPublic,
)
from registry.context import TenantContext
from registry.db_types import CHINA_TZ, new_id, utcnow
from registry.errors import Conflict, Invalid, NotFound
from registry.journal import Write
from registry.security.auth import Principal
from registry.security.masking import mask_id_number, mask_name, mask_phone
from registry.security.permissions import Permission

NUMBER_MARK = "SP"  # 审批: approvals are numbered <tenant code>-SP-<year>-<seq>
QUERY_KIND = "approval"


def china_day(moment: datetime) -> date:
    return moment.astimezone(CHINA_TZ).date()


def details_context(approval_id: uuid.UUID) -> str:
    """The encryption context of an approval's details: a ciphertext moved to another row does not decrypt."""
    return f"approvals.details:{approval_id}"


def public(approval: Approval, today: date) -> ApprovalPublic:
    return ApprovalPublic(**{name: getattr(approval, name) for name in ApprovalPublic.model_fields if name != "overdue"},
                          overdue=time_limits.is_overdue(approval.due_on, today))


def event_payload(approval: Approval) -> dict:
    """What the ministry receives of a step: the approval's kind, number, status, regions and dates, no person."""
    return {"id": str(approval.id), "number": approval.number, "kind": approval.kind.value,
            "status": approval.status.value, "region_code": approval.region_code, "to_region": approval.to_region,
            "facility_type": approval.facility_type, "change_kind": approval.change_kind,
            "planned_on": approval.planned_on.isoformat() if approval.planned_on else None,
            "submitted_at": approval.submitted_at.isoformat(),
            "due_on": approval.due_on.isoformat() if approval.due_on else None}


def _check_places(ctx: TenantContext, data: ApprovalCreate, today: date) -> None:
    province = ctx.settings.tenant_code
    if data.facility and not regions.in_province(data.facility.region_code, province):
        raise Invalid("facility.region_code", "region_in_province", "the facility is not inside this province")
    if data.transport:
        if not regions.in_province(data.transport.from_region, province):
            raise Invalid("transport.from_region", "region_in_province", "the remains leave from another province")
        if data.transport.planned_on < today:
            raise Invalid("transport.planned_on", "too_early", "planned_on is in the past", earliest=today.isoformat())


def _number(session: Session, ctx: TenantContext, today: date) -> str:
    """The next number of the year; the caller holds the write head, so no two submissions count the same."""
    prefix = f"{ctx.settings.tenant_code}-{NUMBER_MARK}-{today.year}-"
    taken = session.exec(select(func.count()).select_from(Approval)
                         .where(col(Approval.number).startswith(prefix))).one()
    return f"{prefix}{taken + 1:06d}"


def submit(session: Session, *, ctx: TenantContext, principal: Principal, data: ApprovalCreate,
           now: datetime | None = None) -> ApprovalReceipt:
    """A citizen's application, with its query code (shown once, stored as a digest only)."""
    now = now or utcnow()
    today = china_day(now)
    _check_places(ctx, data, today)
    code = query_codes.new_code()
    approval_id = new_id()
    details = data.details.model_dump(mode="json")
    approval = Approval(
        id=approval_id, kind=data.kind, owner_subject=principal.subject, query_code_digest=query_codes.digest(code),
        details_cipher=ctx.encrypt(details_context(approval_id), json.dumps(details, ensure_ascii=False)),
        submitted_at=now, updated_at=now, number="",
        due_on=time_limits.due_on(ApprovalStatus.submitted, submitted_on=today, accepted_on=None))
    if data.facility:
        approval.region_code, approval.summary = data.facility.region_code, data.facility.organisation_name
        approval.facility_type, approval.change_kind = data.facility.facility_type, data.facility.change_kind
    else:
        transport = data.transport
        approval.region_code, approval.to_region = transport.from_region, transport.to_region
        approval.planned_on, approval.summary = transport.planned_on, mask_name(transport.deceased_name)
        approval.id_number_index = ctx.blind_index(transport.id_number) if transport.id_number else None
    with ctx.journal.write(session, actor=principal.subject) as unit:
        approval.number = _number(session, ctx, today)
        session.add(approval)
        session.add(ApprovalStep(approval_id=approval.id, status=ApprovalStatus.submitted, actor=principal.subject,
                                 at=now))
        unit.record(action="approval.submit", object_type="approval", object_id=approval.id,
                    event_type="approval.submitted", payload=event_payload(approval))
    return ApprovalReceipt(approval=public(approval, today), query_code=code)


def _filtered(query, filters: ApprovalFilters, today: date):
    if filters.kind:
        query = query.where(Approval.kind == filters.kind)
    if filters.status:
        query = query.where(Approval.status == filters.status)
    late = col(Approval.status).in_(OPEN_STATUSES) & (col(Approval.due_on) < today)
    if filters.overdue is True:
        query = query.where(late)
    elif filters.overdue is False:
        query = query.where(or_(col(Approval.due_on).is_(None), col(Approval.due_on) >= today))
    return query


def list_approvals(session: Session, *, filters: ApprovalFilters, owner: str | None = None,
                   now: datetime | None = None) -> ApprovalsPublic:
    """A page of approvals, the nearest deadline first, then the newest; `owner` narrows to one citizen's."""
    today = china_day(now or utcnow())
    query, counted = select(Approval), select(func.count()).select_from(Approval)
    if owner is not None:
        query, counted = query.where(Approval.owner_subject == owner), counted.where(Approval.owner_subject == owner)
    query, counted = _filtered(query, filters, today), _filtered(counted, filters, today)
    page = session.exec(query.order_by(col(Approval.due_on).is_(None), col(Approval.due_on),
                                       col(Approval.submitted_at).desc(), col(Approval.id))
                        .offset(filters.offset).limit(filters.limit)).all()
    return ApprovalsPublic(data=[public(a, today) for a in page], count=session.exec(counted).one())


def find(session: Session, *, principal: Principal, approval_id: uuid.UUID) -> Approval:
    """An approval the principal may see: staff who handle approvals see all, a citizen their own; anything
    else is not found, exactly like an id that does not exist."""
    approval = session.get(Approval, approval_id)
    visible = approval is not None and (principal.can(Permission.approvals_read)
                                        or approval.owner_subject == principal.subject)
    if not visible:
        raise NotFound("approval_id", f"approval {approval_id} does not exist")
    return approval


def details(ctx: TenantContext, approval: Approval) -> dict:
    return json.loads(ctx.decrypt(details_context(approval.id), approval.details_cipher))


def _shown(ctx: TenantContext, approval: Approval, principal: Principal) -> dict:
    """What the application says as this reader sees it: ID number and the escort's phone masked; the deceased's
    name in full to the applicant and to staff allowed personal data, masked to others."""
    shown = details(ctx, approval)
    if approval.kind == ApprovalKind.transport:
        if shown["id_number"]:
            shown["id_number"] = mask_id_number(shown["id_number"])
        shown["escort_phone"] = mask_phone(shown["escort_phone"])
        if approval.owner_subject != principal.subject and not principal.can(Permission.personal_data_read):
            shown["deceased_name"] = mask_name(shown["deceased_name"])
    return shown


def detail(session: Session, *, ctx: TenantContext, principal: Principal, approval: Approval,
           now: datetime | None = None, **extra) -> ApprovalDetail:
    today = china_day(now or utcnow())
    staff = principal.can(Permission.approvals_read)
    steps = session.exec(select(ApprovalStep).where(ApprovalStep.approval_id == approval.id)
                         .order_by(col(ApprovalStep.at), col(ApprovalStep.id))).all()
    shown = _shown(ctx, approval, principal)
    return ApprovalDetail(
        **public(approval, today).model_dump(), facility=shown if approval.kind == ApprovalKind.facility else None,
        transport=shown if approval.kind == ApprovalKind.transport else None,
        steps=[StepPublic(status=s.status, actor=s.actor if staff else None, at=s.at, remark=s.remark, late=s.late)
               for s in steps], **extra)


# each step: the status it starts from, the status it leads to, and the action audited
STEPS: dict[str, tuple[ApprovalStatus, ApprovalStatus]] = {
    "accept": (ApprovalStatus.submitted, ApprovalStatus.accepted),
    "refuse": (ApprovalStatus.submitted, ApprovalStatus.refused),
    "review": (ApprovalStatus.accepted, ApprovalStatus.reviewed),
    "approve": (ApprovalStatus.reviewed, ApprovalStatus.approved),
    "reject": (ApprovalStatus.reviewed, ApprovalStatus.rejected),
}


def take_step(session: Session, *, ctx: TenantContext, principal: Principal, approval_id: uuid.UUID, step: str,
              remark: str | None = None, now: datetime | None = None, then=None) -> Approval:
    """Move the approval by one step of STEPS (the route checked the role); `then(session, unit, approval)` adds
    what the step brings with it (an approved transport's permit) to the same unit of write."""
    now = now or utcnow()
    today = china_day(now)
    allowed_from, to = STEPS[step]
    with ctx.journal.write(session, actor=principal.subject) as unit:
        approval = find(session, principal=principal, approval_id=approval_id)
        if approval.status != allowed_from:
            raise Conflict("status", "approval_status",
                           f"approval {approval.number} is {approval.status.value}; {step} needs {allowed_from.value}",
                           current=approval.status.value)
        late = time_limits.is_overdue(approval.due_on, today)
        approval.status, approval.updated_at = to, now
        if to == ApprovalStatus.accepted:
            approval.accepted_on = today
        approval.due_on = time_limits.due_on(to, submitted_on=china_day(approval.submitted_at),
                                             accepted_on=approval.accepted_on)
        session.add(approval)
        session.add(ApprovalStep(approval_id=approval.id, status=to, actor=principal.subject, at=now, remark=remark,
                                 late=late))
        if then is not None:
            then(session, unit, approval)
        _record(unit, approval, step, late)
    return approval


def _record(unit: Write, approval: Approval, step: str, late: bool) -> None:
    unit.record(action=f"approval.{step}", object_type="approval", object_id=approval.id,
                event_type=f"approval.{approval.status.value}", payload={**event_payload(approval), "late": late})


def status_by_code(session: Session, digest: str) -> query_codes.PublicStatus | None:
    """What a query code reveals of an approval: its number, status and deadline, nothing of who or what."""
    approval = session.exec(select(Approval).where(Approval.query_code_digest == digest)).first()
    if approval is None:
        return None
    due = datetime.combine(approval.due_on, time(23, 59, 59), tzinfo=CHINA_TZ) if approval.due_on else None
    return query_codes.PublicStatus(kind=QUERY_KIND, number=approval.number, status=approval.status.value,
                                    updated_at=approval.updated_at, due_on=due)

