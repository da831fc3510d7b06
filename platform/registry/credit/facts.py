"""The facts of a year the credit evaluation counts, per institution, read from the domains that hold them:
upheld complaints (registry.complaints), satisfaction (registry.ratings), price violations (registry.payments
against registry.institutions' published fees), annual inspections and administrative penalties (here).

Price violations: a fee actually charged is recorded nowhere but in payment orders, so a violation is a payment
order paid in the year (and not refunded) whose amount exceeds the published fee of the booked service item, or
any amount charged for a service free by policy (基本殡葬服务减免)."""
import uuid
from datetime import date, datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from registry.complaints.models import Complaint
from registry.credit.models import Inspection, Penalty
from registry.credit.rules import Facts
from registry.db_types import CHINA_TZ
from registry.institutions.models import ServiceItem
from registry.payments.models import OrderStatus, PaymentOrder
from registry.ratings.service import summary_by_institution
from registry.reservations.models import Booking


def _year(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=CHINA_TZ), datetime(year + 1, 1, 1, tzinfo=CHINA_TZ)


def of_year(session: Session, year: int, institution_ids: list[uuid.UUID]) -> dict[uuid.UUID, Facts]:
    """Every named institution's facts of `year` (China time), in a handful of queries."""
    found = {institution_id: Facts() for institution_id in institution_ids}
    first, after = _year(year)
    for institution_id, number in session.exec(
            select(Complaint.institution_id, Complaint.number).where(
                col(Complaint.upheld).is_(True), Complaint.received_at >= first, Complaint.received_at < after)
            .order_by(col(Complaint.number))):
        if institution_id in found:
            found[institution_id].upheld_complaints.append(number)
    for rated in summary_by_institution(session, year).data:
        if rated.institution_id in found:
            found[rated.institution_id].ratings_count, found[rated.institution_id].ratings_mean = rated.count, rated.mean
    overcharged = or_(and_(col(Booking.free_by_policy).is_(True), PaymentOrder.amount_fen > 0),
                      PaymentOrder.amount_fen > ServiceItem.price_fen)
    for order, published in session.exec(
            select(PaymentOrder, ServiceItem.price_fen)
            .join(Booking, col(Booking.id) == col(PaymentOrder.booking_id))
            .outerjoin(ServiceItem, col(ServiceItem.id) == col(Booking.service_item_id))
            .where(col(PaymentOrder.paid_at) >= first, col(PaymentOrder.paid_at) < after,
                   PaymentOrder.status != OrderStatus.refunded, overcharged)
            .order_by(col(PaymentOrder.order_no))):
        if order.institution_id in found:
            found[order.institution_id].price_violations.append(
                {"order_no": order.order_no, "amount_fen": order.amount_fen, "published_fen": published or 0})
    for inspection in session.exec(select(Inspection).where(Inspection.year == year)):
        if inspection.institution_id in found:
            found[inspection.institution_id].inspection = {
                "inspected_on": inspection.inspected_on.isoformat(), "result": inspection.result,
                "findings": inspection.findings}
    for penalty in session.exec(select(Penalty).where(Penalty.decided_on >= date(year, 1, 1),
                                                      Penalty.decided_on < date(year + 1, 1, 1))
                                .order_by(col(Penalty.decided_on), col(Penalty.decision_no))):
        if penalty.institution_id in found:
            found[penalty.institution_id].penalties.append(
                {"decision_no": penalty.decision_no, "decided_on": penalty.decided_on.isoformat(),
                 "kind": penalty.kind, "amount_fen": penalty.amount_fen})
    return found
