"""The yearly credit evaluation (信用评价) and the red and black lists (红黑名单).

The evaluation scores every institution not closed from its facts of the year (registry.credit.facts) under the
shipped rules (registry.credit.rules), in one unit of write. A score whose facts and rules are unchanged is left
as it was (nothing written, its list kept, a manual listing too); a changed one is stored and audited, and when
its list changes the change is audited with its reasons and sent as `credit.list_changed` (public facts of the
institution only) to the ministry. An admin may change a list by hand, always with a reason, kept until the
facts change."""
import hashlib
import json
import uuid
from datetime import datetime

from sqlmodel import Session, col, select

from registry.context import TenantContext
from registry.credit import facts as credit_facts
from registry.credit import rules as credit_rules
from registry.credit.models import (
    CreditList,
    CreditListsPublic,
    CreditScore,
    CreditScorePublic,
    EvaluationPublic,
    ListChange,
    ListedInstitution,
)
from registry.db_types import CHINA_TZ, utcnow
from registry.errors import Conflict, NotFound
from registry.institutions.models import Institution, InstitutionStatus
from registry.journal import Write
from registry.security.auth import Principal


def _digest(rules: credit_rules.Rules, parts: list[dict]) -> str:
    canonical = json.dumps({"rules": rules.version, "parts": parts}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def evaluate(session: Session, *, ctx: TenantContext, principal: Principal, year: int,
             rules: credit_rules.Rules | None = None, now: datetime | None = None) -> EvaluationPublic:
    """Score every institution not closed for `year`; idempotent while the facts stay the same."""
    rules, now = rules or credit_rules.shipped(), now or utcnow()
    changed = list_changes = 0
    with ctx.journal.write(session, actor=principal.subject) as unit:
        institutions = list(session.exec(select(Institution).where(Institution.status != InstitutionStatus.closed)
                                         .order_by(col(Institution.id))))
        found = credit_facts.of_year(session, year, [institution.id for institution in institutions])
        stored = {row.institution_id: row for row in session.exec(select(CreditScore).where(CreditScore.year == year))}
        for institution in institutions:
            facts = found[institution.id]
            parts = credit_rules.breakdown(rules, facts)
            digest = _digest(rules, parts)
            row = stored.get(institution.id)
            if row is not None and row.facts_digest == digest:
                continue
            changed += 1
            value = credit_rules.score(rules, parts)
            listing, reasons = credit_rules.listing(rules, value, facts)
            before = None if row is None else (row.score, row.listing)
            row = row or CreditScore(institution_id=institution.id, year=year, score=value, rules_version=rules.version,
                                     facts_digest=digest)
            row.score, row.breakdown, row.rules_version, row.facts_digest = value, parts, rules.version, digest
            row.evaluated_at = now
            unit.record(action="credit.scored", object_type="institution", object_id=institution.id,
                        detail={"year": year, "score": value, "before": before and before[0],
                                "rules_version": rules.version})
            if (before[1] if before else None) != listing:
                list_changes += 1
                _set_listing(unit, institution, row, listing, reasons, manual=False, now=now)
            else:
                row.listing_reasons, row.listing_manual = reasons, False
            session.add(row)
        unit.record(action="credit.evaluated", object_type="credit_evaluation", object_id=year,
                    detail={"year": year, "rules_version": rules.version, "evaluated": len(institutions),
                            "changed": changed, "list_changes": list_changes})
    return EvaluationPublic(year=year, rules_version=rules.version, evaluated=len(institutions), changed=changed,
                            list_changes=list_changes)


def _set_listing(unit: Write, institution: Institution, row: CreditScore, listing: CreditList | None,
                 reasons: list[dict], *, manual: bool, now: datetime) -> None:
    """Move the institution to `listing` (None: off every list), audited with the reasons and sent on."""
    previous = row.listing
    row.listing, row.listing_reasons, row.listing_manual, row.listed_at = listing, reasons, manual, now
    payload = {"institution_id": str(institution.id), "name": institution.name, "credit_code": institution.credit_code,
               "region_code": institution.region_code, "year": row.year, "listing": listing, "previous": previous,
               "score": row.score, "reasons": reasons, "manual": manual,
               "changed_at": now.astimezone(CHINA_TZ).isoformat()}
    unit.record(action="credit.list_changed", object_type="institution", object_id=institution.id,
                event_type="credit.list_changed", payload=payload,
                detail={"year": row.year, "listing": listing, "previous": previous, "reasons": reasons,
                        "manual": manual})


def change_listing(session: Session, *, ctx: TenantContext, principal: Principal, institution_id: uuid.UUID,
                   year: int, change: ListChange, now: datetime | None = None) -> CreditScorePublic:
    """An admin's change of an evaluated institution's list, with the reason given."""
    now = now or utcnow()
    with ctx.journal.write(session, actor=principal.subject) as unit:
        row = session.get(CreditScore, (institution_id, year))
        if row is None:
            raise NotFound("institution_id", f"institution {institution_id} has no evaluation of {year}")
        if row.listing == change.listing:
            raise Conflict("listing", "listing_unchanged", "the institution is on this list already")
        institution = session.get(Institution, institution_id)
        _set_listing(unit, institution, row, change.listing, [{"code": "manual", "text": change.reason}],
                     manual=True, now=now)
        session.add(row)
        public = _public(row, institution.name)
    return public


def _public(row: CreditScore, name: str) -> CreditScorePublic:
    return CreditScorePublic(institution_id=row.institution_id, institution_name=name, year=row.year, score=row.score,
                             breakdown=row.breakdown, rules_version=row.rules_version, listing=row.listing,
                             listing_reasons=row.listing_reasons, listing_manual=row.listing_manual,
                             listed_at=row.listed_at, evaluated_at=row.evaluated_at)


def scores(session: Session, *, year: int, institution_id: uuid.UUID | None = None) -> list[CreditScorePublic]:
    """The year's scores with their breakdown, lowest first (what needs the province's attention)."""
    query = select(CreditScore, Institution.name).join(Institution, col(Institution.id) == col(CreditScore.institution_id))
    query = query.where(CreditScore.year == year)
    if institution_id is not None:
        query = query.where(CreditScore.institution_id == institution_id)
    rows = session.exec(query.order_by(col(CreditScore.score), col(Institution.name), col(CreditScore.institution_id)))
    return [_public(row, name) for row, name in rows]


def lists(session: Session, *, year: int) -> CreditListsPublic:
    """The published red and black lists of `year`: public facts of each institution, by name."""
    rows = session.exec(select(CreditScore, Institution)
                        .join(Institution, col(Institution.id) == col(CreditScore.institution_id))
                        .where(CreditScore.year == year, col(CreditScore.listing).is_not(None))
                        .order_by(col(Institution.name), col(Institution.id)))
    found: dict[str, list[ListedInstitution]] = {CreditList.red: [], CreditList.black: []}
    for row, institution in rows:
        found[row.listing].append(ListedInstitution(
            institution_id=institution.id, name=institution.name, credit_code=institution.credit_code,
            region_code=institution.region_code, score=row.score, reasons=row.listing_reasons, listed_at=row.listed_at))
    return CreditListsPublic(year=year, red=found[CreditList.red], black=found[CreditList.black])
