"""Keep the national records and counters of online services (approvals, bookings, complaints, memorials,
ratings, payments) from a province's batch, in the transaction storing it.

Like the case records (registry.national.records): an event applies to its item only when it is newer than the
item's last one (a replay or an older event changes nothing), and the item's counters move from what it counted
before to what it counts after, so a status change moves counts exactly. Counted per province, institution,
month, measure and kind.
"""
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from registry.exchange.models import BatchEvent
from registry.national.online_models import NationalOnlineCount, NationalOnlineItem
from registry.national.statistics import china_month

_CHUNK = 1000


class Change(NamedTuple):
    """What one event says of one item: its key, the fields it sets, and those it sets only while still unset."""

    service: str
    item_id: uuid.UUID
    values: dict
    once: dict


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Approval(_Shape):
    id: uuid.UUID
    kind: str
    status: str
    submitted_at: datetime
    due_on: date | None = None
    late: bool = False


class _Booking(_Shape):
    booking_id: uuid.UUID
    institution_id: uuid.UUID
    resource_kind: str
    status: str


class _Complaint(_Shape):
    complaint_id: uuid.UUID
    institution_id: uuid.UUID
    category: str
    status: str
    upheld: bool | None = None


class _Memorial(_Shape):
    memorial_id: uuid.UUID
    visibility: str | None = None


class _Message(_Shape):
    message_id: uuid.UUID
    status: str | None = None
    offering: str | None = None


class _Rating(_Shape):
    institution_id: uuid.UUID
    service_kind: str
    score: int
    rated_at: datetime | None = None


class _Payment(_Shape):
    order_id: uuid.UUID
    institution_id: uuid.UUID
    amount_fen: int
    status: str


def _approval(event: BatchEvent) -> Change:
    a = _Approval.model_validate(event.payload)
    once = {"opened_at": a.submitted_at, **({"late_at": event.at} if a.late else {})}
    return Change("approval", a.id, {"kind": a.kind, "status": a.status, "due_on": a.due_on}, once)


def _booking(event: BatchEvent) -> Change:
    b = _Booking.model_validate(event.payload)
    once = {"opened_at": event.at, **({"confirmed_at": event.at} if event.event_type == "booking.confirmed" else {})}
    return Change("booking", b.booking_id, {"institution_id": b.institution_id, "kind": b.resource_kind,
                                            "status": b.status}, once)


def _complaint(event: BatchEvent) -> Change:
    c = _Complaint.model_validate(event.payload)
    moments = {"complaint.answered": "answered_at", "complaint.escalated": "escalated_at"}
    once = {"opened_at": event.at, **({moments[event.event_type]: event.at} if event.event_type in moments else {})}
    return Change("complaint", c.complaint_id, {"institution_id": c.institution_id, "kind": c.category,
                                                "status": c.status, "upheld": c.upheld}, once)


def _memorial(event: BatchEvent) -> Change:
    m = _Memorial.model_validate(event.payload)
    if event.event_type == "memorial.created":
        return Change("memorial", m.memorial_id, {"kind": m.visibility or "", "status": "active"},
                      {"opened_at": event.at})
    return Change("memorial", m.memorial_id, {"status": "removed"}, {})


def _message(event: BatchEvent) -> Change:
    m = _Message.model_validate(event.payload)
    values = {"status": m.status or event.event_type.rsplit(".", 1)[1]}
    if event.event_type == "memorial_message.posted":
        return Change("memorial_message", m.message_id, {**values, "kind": m.offering or ""}, {"opened_at": event.at})
    return Change("memorial_message", m.message_id, values, {})


def _rating(event: BatchEvent) -> Change:
    r = _Rating.model_validate(event.payload)
    key = event.payload.get("id") or event.payload.get("rating_id") or event.aggregate_id
    try:
        item_id = uuid.UUID(str(key))
    except ValueError:
        item_id = uuid.uuid5(uuid.NAMESPACE_URL, f"rating/{key}")
    return Change("rating", item_id, {"institution_id": r.institution_id, "kind": r.service_kind, "score": r.score},
                  {"opened_at": r.rated_at or event.at})


def _payment(event: BatchEvent) -> Change:
    p = _Payment.model_validate(event.payload)
    once = {"opened_at": event.at, **({"paid_at": event.at} if event.event_type == "payment.paid" else {})}
    return Change("payment", p.order_id, {"institution_id": p.institution_id, "status": p.status,
                                          "amount_fen": p.amount_fen}, once)


CHANGES_OF: dict[str, Callable[[BatchEvent], Change]] = {
    **{f"approval.{status}": _approval for status in
       ("submitted", "accepted", "refused", "reviewed", "approved", "rejected")},
    **{f"booking.{verb}": _booking for verb in ("held", "changed", "confirmed", "cancelled", "expired")},
    **{f"complaint.{verb}": _complaint for verb in ("received", "assigned", "answered", "escalated", "closed")},
    "memorial.created": _memorial, "memorial.removed": _memorial,
    **{f"memorial_message.{verb}": _message for verb in ("posted", "reviewed", "removed")},
    "rating.submitted": _rating,
    **{f"payment.{verb}": _payment for verb in ("created", "paid", "refund_requested", "refunded", "closed")},
}

# what an item counts when it opens, and the statuses it counts in the month it reaches them
OPENED = {"approval": "submitted", "booking": "made", "complaint": "received", "memorial": "created",
          "memorial_message": "posted", "rating": "rated", "payment": "created"}
STATUSES = {"approval": {"approved", "rejected", "refused"}, "booking": {"cancelled", "expired"},
            "memorial": {"removed"}, "payment": {"refunded"}}
# moments that stay counted once reached, whatever the item's later status (a paid order refunded stays paid)
MOMENTS = {"confirmed_at": "confirmed", "answered_at": "answered", "escalated_at": "escalated", "late_at": "overdue",
           "paid_at": "paid"}
# a payment order's amount (fen) summed beside the count of the measure it reached
AMOUNTS = {"paid": "paid_fen", "refunded": "refunded_fen"}


class Bucket(NamedTuple):
    province_slug: str
    institution: str
    year: int
    month: int
    service: str
    measure: str
    kind: str


def buckets(item: NationalOnlineItem | None) -> list[tuple[Bucket, int]]:
    """The counters an item adds to now, each with what it adds (one, a rating's score, or an order's amount)."""
    if item is None:
        return []

    def at(moment: datetime, measure: str, weight: int = 1) -> tuple[Bucket, int]:
        year, month = china_month(moment)
        institution = item.institution_id.hex if item.institution_id else ""
        return Bucket(item.province_slug, institution, year, month, item.service, measure, item.kind), weight

    found = []
    if item.opened_at is not None:
        found.append(at(item.opened_at, OPENED[item.service]))
        if item.service == "rating" and item.score is not None:
            found.append(at(item.opened_at, "score", item.score))
    if item.status in STATUSES.get(item.service, ()) and item.status_at is not None:
        found.append(at(item.status_at, item.status))
    if item.service == "complaint" and item.status == "closed" and item.upheld and item.status_at is not None:
        found.append(at(item.status_at, "upheld"))
    found += [at(getattr(item, name), measure) for name, measure in MOMENTS.items() if getattr(item, name)]
    if item.service == "payment" and item.amount_fen:
        found += [(bucket._replace(measure=AMOUNTS[bucket.measure]), item.amount_fen) for bucket, _ in found
                  if bucket.measure in AMOUNTS]
    return found


def apply(session: Session, *, province: str, events: list[BatchEvent], now: datetime) -> None:
    """Apply the batch's online-service events (others are left to the rest of the projection): their items read
    in one query, their counters written in one statement."""
    changes = []
    for event in events:
        if event.event_type in CHANGES_OF:
            try:
                changes.append((event, CHANGES_OF[event.event_type](event)))
            except ValidationError:
                continue  # an event of another shape (a newer province's): kept in the event log, not projected
    if not changes:
        return
    items = _load(session, province, {change.service for _, change in changes},
                  {change.item_id for _, change in changes})
    deltas: dict[Bucket, int] = {}
    for event, change in changes:
        item = items.get((change.service, change.item_id))
        if item is not None and item.last_seq >= event.seq:
            continue
        _move(deltas, buckets(item), -1)
        if item is None:
            item = items[(change.service, change.item_id)] = NationalOnlineItem(
                province_slug=province, service=change.service, item_id=change.item_id, last_seq=event.seq,
                updated_at=now)
        _set(item, change, event)
        item.last_seq, item.updated_at = event.seq, now
        session.add(item)
        _move(deltas, buckets(item), 1)
    write_counts(session, deltas)


def _set(item: NationalOnlineItem, change: Change, event: BatchEvent) -> None:
    if "status" in change.values and change.values["status"] != item.status:
        item.status_at = event.at
    for name, value in change.values.items():
        setattr(item, name, value)
    for name, value in change.once.items():
        if getattr(item, name) is None:
            setattr(item, name, value)


def _load(session: Session, province: str, services: set[str],
          ids: set[uuid.UUID]) -> dict[tuple[str, uuid.UUID], NationalOnlineItem]:
    found = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), _CHUNK):
        for item in session.exec(select(NationalOnlineItem).where(
                col(NationalOnlineItem.province_slug) == province, col(NationalOnlineItem.service).in_(sorted(services)),
                col(NationalOnlineItem.item_id).in_(ordered[start:start + _CHUNK]))):
            found[(item.service, item.item_id)] = item
    return found


def _move(deltas: dict[Bucket, int], counted: Iterable[tuple[Bucket, int]], sign: int) -> None:
    for bucket, weight in counted:
        deltas[bucket] = deltas.get(bucket, 0) + sign * weight


def write_counts(session: Session, deltas: dict[Bucket, int]) -> None:
    """Add the summed changes to the counters, in a fixed order (concurrent batches never lock in a cycle)."""
    rows = [{**bucket._asdict(), "count": delta} for bucket, delta in sorted(deltas.items()) if delta]
    if not rows:
        return
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(NationalOnlineCount)
    statement = statement.on_conflict_do_update(
        index_elements=list(Bucket._fields),
        set_={"count": NationalOnlineCount.__table__.c.count + statement.excluded.count})
    session.execute(statement, rows)


def rebuild(session: Session) -> int:
    """Recount every online counter from the records (to check the running counts); returns how many there are."""
    deltas: dict[Bucket, int] = {}
    for item in session.exec(select(NationalOnlineItem).execution_options(yield_per=5000)):
        _move(deltas, buckets(item), 1)
    session.execute(NationalOnlineCount.__table__.delete())
    write_counts(session, deltas)
    return sum(1 for delta in deltas.values() if delta)
