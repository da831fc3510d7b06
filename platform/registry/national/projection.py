"""Keep the national records current from the events of a province's batch, in the transaction storing it."""
import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlmodel import Session, select

from registry.exchange.models import BatchEvent
from registry.national import directory, records
from registry.national.models import NationalCase, PersonMatch

# events whose payload is the whole (masked) case, with the person's cross-province blind index
CASE_FACTS_EVENTS = frozenset({"case.declared", "case.imported", "case.corrected"})


class _CaseFacts(BaseModel):
    """What the national record takes of a case event's payload; the name and the masked number stay behind."""
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    status: str
    institution_id: uuid.UUID
    sex: str
    ethnicity: str
    id_type: str
    birth_date: date
    household_region: str
    death_at: datetime
    death_place_type: str
    death_manner: str
    cause_category: str
    archive_ref: str | None = None
    archived_at: datetime | None = None
    person_ref: str | None = None


class _StatusChange(BaseModel):
    model_config = ConfigDict(extra="ignore")

    case_id: uuid.UUID
    to: str | None = None


def apply_events(session: Session, *, province: str, province_code: str, events: list[BatchEvent],
                 now: datetime) -> None:
    """Apply each event after its records' last one; replays and older events change nothing."""
    for event in events:
        try:
            if event.event_type in records.ROWS_OF:
                records.apply(session, province=province, event=event, now=now)
            elif event.event_type in directory.APPLY:
                directory.APPLY[event.event_type](session, province, province_code, event, now)
            elif event.aggregate_type != "case":
                continue
            elif event.event_type in CASE_FACTS_EVENTS:
                _apply_facts(session, province, province_code, event, _CaseFacts.model_validate(event.payload), now)
            else:
                _apply_status(session, province, event, _StatusChange.model_validate(event.payload), now)
        except ValidationError:
            continue  # an event of another shape (a newer province's): kept in the event log, not projected


def _apply_facts(session: Session, province: str, province_code: str, event: BatchEvent, facts: _CaseFacts,
                 now: datetime) -> None:
    record = records.upsert(session, NationalCase, province=province, key={"case_id": facts.id},
                            values={"province_code": province_code, **facts.model_dump(exclude={"id"})},
                            seq=event.seq, now=now)
    if record is not None and facts.person_ref:
        session.flush()
        _match(session, record, now)


def _apply_status(session: Session, province: str, event: BatchEvent, change: _StatusChange, now: datetime) -> None:
    record = session.get(NationalCase, (province, change.case_id))
    if record is None or record.last_seq >= event.seq:
        return
    if event.event_type == "case.archived":
        record.archived_at = event.at
    elif change.to:
        record.status = change.to
    record.last_seq, record.updated_at = event.seq, now
    session.add(record)


def _match(session: Session, record: NationalCase, now: datetime) -> None:
    """Pair the record with the same person's cases in other provinces (each pair once, in a fixed order)."""
    others = session.exec(select(NationalCase.province_slug, NationalCase.case_id).where(
        NationalCase.person_ref == record.person_ref, NationalCase.province_slug != record.province_slug)).all()
    for other_province, other_case in others:
        (province_a, case_a), (province_b, case_b) = sorted(
            [(record.province_slug, record.case_id), (other_province, other_case)], key=lambda p: (p[0], str(p[1])))
        exists = session.exec(select(PersonMatch.id).where(
            PersonMatch.province_a == province_a, PersonMatch.case_a == case_a,
            PersonMatch.province_b == province_b, PersonMatch.case_b == case_b)).first()
        if exists is None:
            session.add(PersonMatch(person_ref=record.person_ref, province_a=province_a, case_a=case_a,
                                    province_b=province_b, case_b=case_b, found_at=now))
