"""Read the national database: for ministry operators, every read audited (what was asked, never the data)."""
import uuid

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from registry.context import TenantContext
from registry.db_types import china_days
from registry.errors import NotFound
from registry.national import directory
from registry.national.models import (
    INSTITUTIONS_PAGE_SIZE,
    NationalAshesDestination,
    NationalCase,
    NationalCaseFilters,
    NationalCasePublic,
    NationalCaseRecordPublic,
    NationalCasesPublic,
    NationalCertificate,
    NationalCremation,
    NationalInstitutionFilters,
    NationalInstitutionPublic,
    NationalInstitutionsPublic,
    NationalInterment,
    PersonMatch,
    PersonMatchesPublic,
    PersonMatchPublic,
)
from registry.security.auth import Principal


def search_cases(session: Session, *, ctx: TenantContext, principal: Principal, filters: NationalCaseFilters) -> NationalCasesPublic:
    """One page of national records matching `filters`, newest deaths first, and how many match in all."""
    query = select(NationalCase)
    for column, value in ((NationalCase.province_slug, filters.province), (NationalCase.person_ref, filters.person_ref),
                          (NationalCase.status, filters.status)):
        if value is not None:
            query = query.where(column == value)
    query = query.where(*china_days(col(NationalCase.death_at), filters.died_from, filters.died_to))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(NationalCase.death_at).desc(), col(NationalCase.case_id))
                        .offset(filters.offset).limit(filters.limit)).all()
    page = NationalCasesPublic(data=[NationalCasePublic.model_validate(r, from_attributes=True) for r in rows],
                               count=total)
    audit_read(session, ctx, principal, "national.search_cases", filters.model_dump(mode="json", exclude_none=True),
                total)
    return page


def get_case_record(session: Session, *, ctx: TenantContext, principal: Principal, province: str,
                    case_id: uuid.UUID) -> NationalCaseRecordPublic:
    """One province case with its cremation, certificates (newest first), ashes destination and interments;
    NotFound, audited as a read that found nothing, when the ministry holds no such case."""
    case = session.get(NationalCase, (province, case_id))
    record = None if case is None else NationalCaseRecordPublic.model_validate({
        "case": case,
        "cremation": session.get(NationalCremation, (province, case_id)),
        "certificates": session.exec(select(NationalCertificate).where(
            NationalCertificate.province_slug == province, NationalCertificate.case_id == case_id).order_by(
            col(NationalCertificate.issued_at).desc(), col(NationalCertificate.number).desc())).all(),
        "ashes_destination": session.get(NationalAshesDestination, (province, case_id)),
        "interments": session.exec(select(NationalInterment).where(
            NationalInterment.province_slug == province, NationalInterment.case_id == case_id).order_by(
            col(NationalInterment.interred_at))).all(),
    }, from_attributes=True)
    audit_read(session, ctx, principal, "national.read_case", {"province": province, "case_id": str(case_id)},
                0 if record is None else 1)
    if record is None:
        raise NotFound("case_id", f"the national database holds no case {case_id} of {province}")
    return record


def list_matches(session: Session, *, ctx: TenantContext, principal: Principal, province: str | None, offset: int,
                 limit: int) -> PersonMatchesPublic:
    """People with cases in two provinces, newest first; `province` narrows to the pairs it is part of."""
    query = select(PersonMatch)
    if province:
        query = query.where(or_(PersonMatch.province_a == province, PersonMatch.province_b == province))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(PersonMatch.id).desc()).offset(offset).limit(limit)).all()
    page = PersonMatchesPublic(data=[PersonMatchPublic.model_validate(r, from_attributes=True) for r in rows],
                               count=total)
    audit_read(session, ctx, principal, "national.list_matches", {"province": province}, total)
    return page


def search_institutions(session: Session, *, ctx: TenantContext, principal: Principal,
                        filters: NationalInstitutionFilters) -> NationalInstitutionsPublic:
    """One page of the national directory (every province's institutions with their disclosures); audited."""
    rows, total = directory.find_institutions(session, filters)
    page = NationalInstitutionsPublic(data=[NationalInstitutionPublic.of(row) for row in rows], count=total,
                                      page=filters.page, page_size=INSTITUTIONS_PAGE_SIZE)
    audit_read(session, ctx, principal, "national.search_institutions",
                filters.model_dump(mode="json", exclude_none=True), total)
    return page


def audit_read(session: Session, ctx: TenantContext, principal: Principal, action: str, asked: dict,
                found: int) -> None:
    with ctx.journal.write(session, actor=principal.subject) as unit:  # after the reads, which it lets go
        unit.record(action=action, object_type="national_database", object_id="-",
                    detail={"asked": asked, "found": found})

