"""The daily reconciliation (对账) of a day's payments with the provider's statement.

Each order is matched, missing at the provider (paid here, not in the statement), missing locally (in the
statement, not paid here) or of another amount. What is safe is repaired: an order the provider was paid for but
whose notice was lost becomes paid (audited as found by reconciliation), orders that expired unpaid are closed
(after asking the provider), paid bookings no longer live are refunded, and every refund not yet made is asked
for (again) once the result is written. Differences of money are only reported."""
from datetime import date, datetime

from sqlmodel import Session, col, func, select

from registry.db_types import china_days, utcnow
from registry.journal import Journal
from registry.payments import service
from registry.payments.models import (
    Difference,
    OrderStatus,
    PaymentOrder,
    Reconciliation,
    ReconciliationPublic,
    ReconciliationsPublic,
)
from registry.payments.provider import ProviderError, ProviderOrder, StatementRow
from registry.payments.runtime import Payments, PaymentUnavailable
from registry.reservations import slots
from registry.reservations.models import Booking

RECONCILIATION = "payment_reconciliation"


def reconcile(session: Session, *, journal: Journal, payments: Payments, actor: str, day: date,
              now: datetime | None = None) -> ReconciliationPublic:
    """Compare the day's statement with the orders paid that day (China time), repair what is safe, record it."""
    now = now or utcnow()
    provider = payments.require()
    expired = session.exec(select(PaymentOrder.order_no).where(PaymentOrder.status == OrderStatus.created,
                                                               col(PaymentOrder.expires_at) <= now)).all()
    try:  # the network first, outside the unit of write
        statement = provider.statement(day)
        asked = {order_no: provider.query(order_no) for order_no in expired}
    except ProviderError as err:
        raise PaymentUnavailable("payment", "payment_provider", str(err)) from err
    with journal.write(session, actor=actor) as unit:
        findings: list[dict] = []
        repaired = _compare(session, unit, day, statement, findings, now=now)
        repaired += _settle_expired(session, unit, asked, now=now)
        closed = sum(1 for order_no, found in asked.items() if _closed(session, unit, order_no, found, now=now))
        _refund_dead_bookings(session, unit, now=now)
        unanswered = [(order.order_no, order.amount_fen, order.refund_no) for order in session.exec(
            select(PaymentOrder).where(PaymentOrder.status == OrderStatus.refund_requested))]
        counts = {kind: sum(1 for finding in findings if finding["kind"] == kind) for kind in Difference}
        result = Reconciliation(day=day, matched=counts[Difference.matched],
                                missing_at_provider=counts[Difference.missing_at_provider],
                                missing_locally=counts[Difference.missing_locally],
                                amount_mismatch=counts[Difference.amount_mismatch], repaired=repaired, closed=closed,
                                findings=findings, ran_by=actor, ran_at=now)
        session.add(result)
        session.flush()
        unit.record(action="payment.reconcile", object_type=RECONCILIATION, object_id=result.id,
                    event_type="payment.reconciled",
                    payload={"day": day.isoformat(), **{kind.value: count for kind, count in counts.items()},
                             "repaired": repaired, "closed": closed})
        public = ReconciliationPublic.model_validate(result, from_attributes=True)
    service.ask_refunds(provider, unanswered)  # again, once written: the provider refunds a refund number once
    return public


def _compare(session: Session, unit, day: date, statement: list[StatementRow],
             findings: list[dict], *, now: datetime) -> int:
    repaired = 0
    paid_here = {order.order_no: order for order in session.exec(select(PaymentOrder).where(
        col(PaymentOrder.status).in_([status.value for status in service.SETTLED]),
        *china_days(PaymentOrder.paid_at, day, day)))}
    for row in statement:
        order = paid_here.pop(row.order_no, None) or session.exec(
            select(PaymentOrder).where(PaymentOrder.order_no == row.order_no)).first()
        finding = {"order_no": row.order_no, "provider_fen": row.amount_fen,
                   "local_fen": order.amount_fen if order else None}
        if order is None:
            findings.append({**finding, "kind": Difference.missing_locally, "repaired": False})
        elif order.amount_fen != row.amount_fen:
            findings.append({**finding, "kind": Difference.amount_mismatch, "repaired": False})
        elif order.status in (OrderStatus.created, OrderStatus.closed):  # its notice was lost
            service.settle_paid(session, None, unit, order, transaction_id=row.transaction_id, paid_at=row.paid_at,
                                now=now, found_by="reconciliation")
            findings.append({**finding, "kind": Difference.missing_locally, "repaired": True})
            repaired += 1
        else:
            findings.append({**finding, "kind": Difference.matched})
    for order in paid_here.values():
        findings.append({"order_no": order.order_no, "provider_fen": None, "local_fen": order.amount_fen,
                         "kind": Difference.missing_at_provider, "repaired": False})
    return repaired


def _refund_dead_bookings(session: Session, unit, *, now: datetime) -> None:
    """A paid booking whose hold ran out before staff confirmed it keeps no place: its fee goes back."""
    for order in session.exec(select(PaymentOrder).where(PaymentOrder.status == OrderStatus.paid)).all():
        if slots.live_status(session.get(Booking, order.booking_id), now) not in slots.LIVE:
            service.request_refund(session, None, unit, order, now=now, reason="booking_not_live")


def _settle_expired(session: Session, unit, asked: dict[str, ProviderOrder | None], *,
                    now: datetime) -> int:
    """Expired orders the provider says were paid (a lost notice of another day) become paid."""
    repaired = 0
    for order_no, found in asked.items():
        order = session.exec(select(PaymentOrder).where(PaymentOrder.order_no == order_no)).first()
        if (order is not None and order.status == OrderStatus.created and found is not None
                and found.state == "SUCCESS" and found.amount_fen == order.amount_fen):
            service.settle_paid(session, None, unit, order, transaction_id=found.transaction_id or "",
                                paid_at=found.paid_at or now, now=now, found_by="reconciliation")
            repaired += 1
    return repaired


def _closed(session: Session, unit, order_no: str, found: ProviderOrder | None, *, now: datetime) -> bool:
    order = session.exec(select(PaymentOrder).where(PaymentOrder.order_no == order_no)).first()
    if order is None or order.status != OrderStatus.created or (found is not None and found.state == "SUCCESS"):
        return False
    service.close(session, unit, order, now=now)
    return True


def list_reconciliations(session: Session, *, offset: int, limit: int) -> ReconciliationsPublic:
    total = session.exec(select(func.count()).select_from(Reconciliation)).one()
    rows = session.exec(select(Reconciliation).order_by(col(Reconciliation.ran_at).desc())
                        .offset(offset).limit(limit)).all()
    return ReconciliationsPublic(data=[ReconciliationPublic.model_validate(row, from_attributes=True) for row in rows],
                                 count=total)
