"""The province's records of institutions for the credit evaluation: annual inspections (年检) and administrative
penalties (行政处罚). Each is one audited unit of write with a `credit.*` event; the event carries the facts the
ministry may know (no finding's text, no penalty's reason)."""
import uuid
from datetime import date

from sqlmodel import Session, col, select

from registry.context import TenantContext
from registry.credit.models import (
    Inspection,
    InspectionCreate,
    InspectionPublic,
    Penalty,
    PenaltyCreate,
    PenaltyPublic,
)
from registry.errors import Conflict
from registry.institutions.service import get_institution
from registry.security.auth import Principal


def record_inspection(session: Session, *, ctx: TenantContext, principal: Principal,
                      data: InspectionCreate) -> InspectionPublic:
    """The institution's annual inspection of a year, once; a second of the same year is a conflict."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        get_institution(session, institution_id=data.institution_id)
        if session.exec(select(Inspection.id).where(Inspection.institution_id == data.institution_id,
                                                    Inspection.year == data.year)).first() is not None:
            raise Conflict("year", "inspection_recorded",
                           f"the inspection of {data.year} is recorded already for this institution")
        row = Inspection(institution_id=data.institution_id, year=data.year, inspected_on=data.inspected_on,
                         result=data.result, findings=[f.model_dump(mode="json") for f in data.findings],
                         recorded_by=principal.subject)
        session.add(row)
        session.flush()
        unit.record(action="credit.inspection_recorded", object_type="institution", object_id=data.institution_id,
                    event_type="credit.inspection_recorded",
                    payload={"inspection_id": str(row.id), "institution_id": str(row.institution_id), "year": row.year,
                             "inspected_on": row.inspected_on.isoformat(), "result": row.result,
                             "findings": len(row.findings)})
    return InspectionPublic.model_validate(row, from_attributes=True)


def record_penalty(session: Session, *, ctx: TenantContext, principal: Principal, data: PenaltyCreate) -> PenaltyPublic:
    """An administrative penalty decided against the institution; its decision number is recorded once."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        get_institution(session, institution_id=data.institution_id)
        if session.exec(select(Penalty.id).where(Penalty.decision_no == data.decision_no)).first() is not None:
            raise Conflict("decision_no", "penalty_recorded", f"decision {data.decision_no} is recorded already")
        row = Penalty(**data.model_dump(), recorded_by=principal.subject)
        session.add(row)
        session.flush()
        unit.record(action="credit.penalty_recorded", object_type="institution", object_id=data.institution_id,
                    event_type="credit.penalty_recorded",
                    payload={"penalty_id": str(row.id), "institution_id": str(row.institution_id),
                             "decided_on": row.decided_on.isoformat(), "decision_no": row.decision_no,
                             "kind": row.kind, "amount_fen": row.amount_fen})
    return PenaltyPublic.model_validate(row, from_attributes=True)


def list_inspections(session: Session, *, year: int | None, institution_id: uuid.UUID | None) -> list[InspectionPublic]:
    query = select(Inspection)
    if year is not None:
        query = query.where(Inspection.year == year)
    if institution_id is not None:
        query = query.where(Inspection.institution_id == institution_id)
    rows = session.exec(query.order_by(col(Inspection.year).desc(), col(Inspection.inspected_on).desc(),
                                       col(Inspection.id)))
    return [InspectionPublic.model_validate(row, from_attributes=True) for row in rows]


def list_penalties(session: Session, *, year: int | None, institution_id: uuid.UUID | None) -> list[PenaltyPublic]:
    query = select(Penalty)
    if year is not None:
        query = query.where(col(Penalty.decided_on).between(date(year, 1, 1), date(year, 12, 31)))
    if institution_id is not None:
        query = query.where(Penalty.institution_id == institution_id)
    rows = session.exec(query.order_by(col(Penalty.decided_on).desc(), col(Penalty.decision_no)))
    return [PenaltyPublic.model_validate(row, from_attributes=True) for row in rows]
