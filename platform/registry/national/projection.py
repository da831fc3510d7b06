"""Keep the national records current from the events of a province's batch, in the transaction storing it."""
import uuid
from collections.abc import Callable
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlmodel import Session

from registry.exchange.models import BatchEvent
from registry.national import credit_lists, directory, loaded, match_findings, online_services, records, statistics
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


# events of other shapes applied one record at a time, each by its own module
APPLY = {**directory.APPLY, **credit_lists.APPLY, **match_findings.APPLY}
# the tables a batch's events may set, by event type, read at once (a case's record is read for every event:
# statistics count a cremation, certificate or destination in its case's county); a credit listing, keyed by its
# year too, is read when its event comes
MODELS_OF: dict[str, tuple] = {**{event_type: (records.MODEL_OF[event_type],) for event_type in records.ROWS_OF},
                               **{event_type: directory.MODELS for event_type in directory.APPLY}}


def apply_events(session: Session, *, province: str, province_code: str, events: list[BatchEvent],
                 now: datetime, before_matching: Callable[[], object] | None = None) -> None:
    """Apply each event after its records' last one; replays and older events change nothing. The batch's
    records are read at once beforehand and written at once after, its statistics and cross-province matches
    written once too.

    Everything but the matching touches only the province's own rows, so receivers of different provinces may
    run it side by side; `before_matching` (taking the write head) is called before people are paired across
    provinces, which must see every other province's cases committed before."""
    models = {NationalCase: None}
    for event_type in {event.event_type for event in events}:
        models.update(dict.fromkeys(MODELS_OF.get(event_type, ())))
    loaded.load(session, province=province, events=events, models=models)
    matched: list[loaded.Record] = []
    try:
        for event in events:
            _apply(session, province, province_code, event, now, matched)
        loaded.write(session)
        statistics.write_counts(session)
        online_services.apply(session, province=province, events=events, now=now)
        if before_matching is not None:
            before_matching()
        _match(session, matched, now)
    finally:
        loaded.forget(session)
        statistics.forget(session)


def _apply(session: Session, province: str, province_code: str, event: BatchEvent, now: datetime,
           matched: list[loaded.Record]) -> None:
    """One event, in its place; a payload of another shape leaves the records as they were."""
    try:
        if event.event_type in records.ROWS_OF:
            records.apply(session, province=province, event=event, now=now)
        elif event.event_type in APPLY:
            APPLY[event.event_type](session, province, province_code, event, now)
        elif event.aggregate_type != "case":
            return
        elif event.event_type in CASE_FACTS_EVENTS:
            record = _apply_facts(session, province, province_code, event,
                                  _CaseFacts.model_validate(event.payload), now)
            if record is not None and record.person_ref:
                matched.append(record)
        else:
            _apply_status(session, province, event, _StatusChange.model_validate(event.payload), now)
    except ValidationError:
        return  # an event of another shape (a newer province's): kept in the event log, not projected


def _apply_facts(session: Session, province: str, province_code: str, event: BatchEvent, facts: _CaseFacts,
                 now: datetime) -> loaded.Record | None:
    return records.upsert(session, NationalCase, province=province, key={"case_id": facts.id},
                          values={"province_code": province_code, **_fields_but_id(facts)},
                          seq=event.seq, now=now)


def _fields_but_id(facts: _CaseFacts) -> dict:
    """The validated fields as they are (a model_dump would copy and convert each again, thousands of times)."""
    fields = dict(facts.__dict__)
    del fields["id"]
    return fields


def _apply_status(session: Session, province: str, event: BatchEvent, change: _StatusChange, now: datetime) -> None:
    record = loaded.find(session, NationalCase, (province, change.case_id))
    if record is None or record.last_seq >= event.seq:
        return
    counted_before = statistics.buckets(session, record)
    if event.event_type == "case.archived":
        record.archived_at = event.at
    elif change.to:
        record.status = change.to
    record.last_seq, record.updated_at = event.seq, now
    loaded.changed(session, record)
    statistics.move(session, counted_before, statistics.buckets(session, record))  # archiving counts it archived


def _match(session: Session, matched: list[loaded.Record], now: datetime) -> None:
    """Pair the batch's people with the same person's cases in other provinces (each pair once, in a fixed
    order): two queries for the whole batch, after its own cases are written."""
    refs = sorted({record.person_ref for record in matched})
    if not refs:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    cases, pairs = NationalCase.__table__.c, PersonMatch.__table__.c
    same_person: dict[str, list[tuple[str, uuid.UUID]]] = {}
    known: set[tuple] = set()
    for start in range(0, len(refs), 1000):
        chunk = {"refs": refs[start:start + 1000]}
        for province, case_id, ref in connection.execute(select(cases.province_slug, cases.case_id, cases.person_ref)
                                                         .where(loaded.one_of(cases.person_ref, "refs", dialect)), chunk):
            same_person.setdefault(ref, []).append((province, case_id))
        known |= {tuple(row) for row in connection.execute(select(
            pairs.province_a, pairs.case_a, pairs.province_b, pairs.case_b).where(
            loaded.one_of(pairs.person_ref, "refs", dialect)), chunk)}
    found = []
    for record in matched:
        for other in same_person.get(record.person_ref, []):
            if other[0] == record.province_slug:
                continue
            a, b = sorted([(record.province_slug, record.case_id), other], key=lambda p: (p[0], str(p[1])))
            if (*a, *b) not in known:
                known.add((*a, *b))
                found.append({"person_ref": record.person_ref, "province_a": a[0], "case_a": a[1],
                              "province_b": b[0], "case_b": b[1], "found_at": now})
    if found:
        connection.execute(PersonMatch.__table__.insert(), found)
