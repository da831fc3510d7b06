"""Store the pairs the ministry returns, list them for reviewers, record what a reviewer found."""
import uuid
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from registry.cases.models import Case
from registry.context import TenantContext
from registry.cross_province.models import (
    CrossProvinceMatch,
    CrossProvinceMatchPublic,
    Finding,
    MatchCase,
    MatchSettlement,
)
from registry.db_types import utcnow
from registry.errors import Conflict, NotFound
from registry.exchange.matches import ReturnedMatch
from registry.journal import Journal
from registry.security.auth import Principal

RECEIVED_ACTION = "cross_province_match.received"
SETTLED_ACTION = "cross_province_match.settled"
ACTOR = "exchange:ministry"
_NOTE = "cross_province_match.note"


def last_match_id(session: Session) -> int:
    """The highest match number held: the province asks for the pairs after it."""
    return session.exec(select(func.coalesce(func.max(CrossProvinceMatch.match_id), 0))).one()


def store(session: Session, journal: Journal, matches: list[ReturnedMatch], *, now: datetime | None = None) -> int:
    """Keep the pairs not held yet, in one audited unit; how many were new. A pair naming a case this database
    does not hold (the ministry matched a case of the province's database before it was provisioned anew) is kept
    too, without its case, and named in the audit entry."""
    now = now or utcnow()
    with journal.write(session, actor=ACTOR) as unit:
        ids = [match.id for match in matches]
        held = set(session.exec(select(CrossProvinceMatch.match_id).where(col(CrossProvinceMatch.match_id).in_(ids))))
        ours = set(session.exec(select(Case.id).where(col(Case.id).in_({match.case_id for match in matches}))))
        fresh = [match for match in matches if match.id not in held]
        for match in fresh:
            session.add(CrossProvinceMatch(match_id=match.id, case_id=match.case_id,
                                           other_province=match.other_province,
                                           other_province_code=match.other_province_code,
                                           other_case_id=match.other_case_id,
                                           found_at=match.found_at, received_at=now))
        unknown = [match.id for match in fresh if match.case_id not in ours]
        if fresh:
            unit.record(action=RECEIVED_ACTION, object_type="cross_province_match",
                        object_id=f"{ids[0]}-{ids[-1]}",
                        detail={"received": [match.id for match in fresh], "unknown_case": unknown})
    return len(fresh)


def list_matches(session: Session, *, ctx: TenantContext, settled: bool | None, case_id: uuid.UUID | None,
                 offset: int, limit: int) -> tuple[list[CrossProvinceMatchPublic], int]:
    """Newest first; `settled=False` the pairs still to check."""
    conditions = []
    if settled is not None:
        conditions.append(col(CrossProvinceMatch.finding).is_not(None) if settled
                          else col(CrossProvinceMatch.finding).is_(None))
    if case_id is not None:
        conditions.append(CrossProvinceMatch.case_id == case_id)
    total = session.exec(select(func.count()).select_from(CrossProvinceMatch).where(*conditions)).one()
    rows = session.exec(select(CrossProvinceMatch, Case).outerjoin(Case, Case.id == CrossProvinceMatch.case_id)
                        .where(*conditions).order_by(col(CrossProvinceMatch.match_id).desc())
                        .offset(offset).limit(limit)).all()
    return [_public(ctx, match, case) for match, case in rows], total


def settle(session: Session, *, ctx: TenantContext, principal: Principal, match_id: int,
           data: MatchSettlement) -> CrossProvinceMatchPublic:
    """Record what the reviewer found; a finding once recorded stands (a second one is refused)."""
    with ctx.journal.write(session, actor=principal.subject) as unit:
        match = session.get(CrossProvinceMatch, match_id)
        if match is None:
            raise NotFound("match_id", f"cross-province match {match_id} not found")
        if match.finding is not None:
            raise Conflict("finding", "match_settled", f"cross-province match {match_id} was settled as "
                                                       f"{match.finding} already", finding=match.finding)
        match.finding, match.found_by, match.settled_at = data.finding, principal.subject, utcnow()
        match.finding_note_encrypted = ctx.encrypt(_NOTE, data.note) if data.note else None
        session.add(match)
        facts = {"match_id": match_id, "case_id": str(match.case_id), "other_province": match.other_province,
                 "other_case_id": str(match.other_case_id), "finding": data.finding.value,
                 "settled_at": match.settled_at.isoformat()}
        # the finding goes to the ministry like any event (never the note, which may name people)
        unit.record(action=SETTLED_ACTION, object_type="cross_province_match", object_id=match_id, detail=facts,
                    event_type=SETTLED_ACTION, payload=facts)
        case = session.get(Case, match.case_id)
    return _public(ctx, match, case)


def _public(ctx: TenantContext, match: CrossProvinceMatch, case: Case | None) -> CrossProvinceMatchPublic:
    return CrossProvinceMatchPublic(
        match_id=match.match_id, case_id=match.case_id, other_province=match.other_province,
        other_province_code=match.other_province_code, other_case_id=match.other_case_id,
        found_at=match.found_at, received_at=match.received_at,
        finding=Finding(match.finding) if match.finding else None,
        finding_note=ctx.decrypt(_NOTE, match.finding_note_encrypted) if match.finding_note_encrypted else None,
        found_by=match.found_by, settled_at=match.settled_at,
        case=None if case is None else MatchCase(
            id=case.id, status=case.status, deceased_name=case.deceased_name, id_number=case.id_number_masked,
            death_at=case.death_at, institution_id=case.institution_id))
