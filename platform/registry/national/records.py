"""What the national database keeps of a case's cremation, certificates, ashes and interments: from each event,
the rows it sets, with the facts statistics need and nothing personal (no operator, plot, niche or note)."""
import uuid
from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, SQLModel

from registry.exchange.models import BatchEvent
from registry.national import loaded, statistics
from registry.national.models import NationalAshesDestination, NationalCertificate, NationalCremation, NationalInterment


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    case_id: uuid.UUID


class _Cremation(_Payload):
    institution_id: uuid.UUID
    started_at: datetime
    ended_at: datetime


class _Certificate(_Payload):
    number: str
    issued_at: datetime
    cancelled_at: datetime | None = None
    replaces_id: uuid.UUID | None = None


class _Reissue(_Certificate):
    replaced: _Certificate


class _AshesDestination(_Payload):
    destination: str
    institution_id: uuid.UUID | None = None
    recorded_at: datetime


class _Interment(_Payload):
    kind: str
    remains_form: str
    institution_id: uuid.UUID
    interred_at: datetime


# one row to set: its table, its key past the province, and its values
Row = tuple[type[SQLModel], dict, dict]


def _cremation(payload: dict) -> list[Row]:
    c = _Cremation.model_validate(payload)
    return [(NationalCremation, {"case_id": c.case_id}, {
        "cremation_id": c.id, "institution_id": c.institution_id, "started_at": c.started_at,
        "ended_at": c.ended_at})]


def _certificate_row(c: _Certificate, status: str) -> Row:
    return (NationalCertificate, {"certificate_id": c.id}, {
        "case_id": c.case_id, "number": c.number, "status": status, "issued_at": c.issued_at,
        "cancelled_at": c.cancelled_at, "replaces_id": c.replaces_id})


def _certificate(status: str) -> Callable[[dict], list[Row]]:
    return lambda payload: [_certificate_row(_Certificate.model_validate(payload), status)]


def _reissue(payload: dict) -> list[Row]:
    """The successor, and the certificate it replaced, cancelled in the same transaction at the province."""
    c = _Reissue.model_validate(payload)
    return [_certificate_row(c.replaced, "cancelled"), _certificate_row(c, "reissued")]


def _ashes_destination(payload: dict) -> list[Row]:
    a = _AshesDestination.model_validate(payload)
    return [(NationalAshesDestination, {"case_id": a.case_id}, {
        "destination_id": a.id, "destination": a.destination, "institution_id": a.institution_id,
        "recorded_at": a.recorded_at})]


def _interment(payload: dict) -> list[Row]:
    i = _Interment.model_validate(payload)
    return [(NationalInterment, {"interment_id": i.id}, {
        "case_id": i.case_id, "kind": i.kind, "remains_form": i.remains_form, "institution_id": i.institution_id,
        "interred_at": i.interred_at})]


# the tables these events set
MODELS = (NationalCremation, NationalCertificate, NationalAshesDestination, NationalInterment)

# the table each event type sets (a reissue sets two certificates)
MODEL_OF: dict[str, type[SQLModel]] = {
    "cremation.recorded": NationalCremation, "certificate.issued": NationalCertificate,
    "certificate.reissued": NationalCertificate, "certificate.cancelled": NationalCertificate,
    "ashes_destination.recorded": NationalAshesDestination, "interment.recorded": NationalInterment,
}

ROWS_OF: dict[str, Callable[[dict], list[Row]]] = {
    "cremation.recorded": _cremation,
    "certificate.issued": _certificate("issued"),
    "certificate.reissued": _reissue,
    "certificate.cancelled": _certificate("cancelled"),
    "ashes_destination.recorded": _ashes_destination,
    "interment.recorded": _interment,
}


def apply(session: Session, *, province: str, event: BatchEvent, now: datetime) -> None:
    """Set the rows of `event` (a ValidationError, before anything is set, for a payload of another shape)."""
    for model, key, values in ROWS_OF[event.event_type](event.payload):
        upsert(session, model, province=province, key=key, values=values, seq=event.seq, now=now)


def upsert(session: Session, model: type[SQLModel], *, province: str, key: dict, values: dict, seq: int,
           now: datetime) -> loaded.Record | None:
    """Create or update the record at `key` with the event `seq`'s values, unless it holds that event or a newer
    one (a replay, or an older event): then nothing changes and None is returned. Written with the batch."""
    primary_key = (province, *key.values())
    record = loaded.find(session, model, primary_key)
    if record is not None and record.last_seq >= seq:
        return None
    counted_before = statistics.buckets(session, record)
    if record is None:
        record = loaded.new(model, {"province_slug": province, **key, **values, "last_seq": seq, "updated_at": now})
        loaded.created(session, record, primary_key)
    else:
        record.values.update(values)  # the record's attributes
        record.last_seq, record.updated_at = seq, now
        loaded.changed(session, record)
    statistics.move(session, counted_before, statistics.buckets(session, record))
    return record
