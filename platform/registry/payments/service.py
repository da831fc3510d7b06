"""Payment of a booked service: the citizen starts it, the provider's verified notice completes it, a cancelled
booking's payment is refunded.

The fee is the one the booking was made at (the institution's published fee in force then). A service free by
policy (基本殡葬服务减免) has no order: nothing is ever sent to the provider for it. The provider is called outside
the unit of write (nobody waits on the write head for the network); the unit then checks again what it read."""
import logging
import threading
import uuid
from datetime import datetime, timedelta

from sqlalchemy import event
from sqlmodel import Session, col, func, select

from registry.context import TenantContext
from registry.db_types import utcnow
from registry.errors import Conflict, DomainError
from registry.payments import signing
from registry.payments.models import (
    OrderPublic,
    OrdersPublic,
    OrderStatus,
    PaymentNotice,
    PaymentOrder,
    PaymentPublic,
    PaymentStart,
    PaymentState,
)
from registry.payments.provider import PAID, Charge, Notice, PaymentProvider, ProviderError
from registry.payments.runtime import PaymentUnavailable
from registry.reservations import slots
from registry.reservations.models import Booking
from registry.reservations.service import own_booking
from registry.security.auth import Principal

log = logging.getLogger(__name__)
ORDER = "payment_order"
PROVIDER_ACTOR = "payment-provider"  # who the audit trail says sent a notice
SETTLED = (OrderStatus.paid, OrderStatus.refund_requested, OrderStatus.refunded)


class NoticeRefused(DomainError):
    """A notice that is not the provider's, is not fresh, or is not one it sends."""
    status, title = 422, "invalid input"


class NoticeConflict(NoticeRefused):
    """A notice seen before (replayed), or one that does not match its order."""
    status, title = 409, "conflict"


class NoNoticeExpected(NoticeRefused):
    """No provider is configured: no notice can be the provider's."""
    status, title = 404, "not found"


def order_of(session: Session, booking_id: uuid.UUID) -> PaymentOrder | None:
    return session.exec(select(PaymentOrder).where(PaymentOrder.booking_id == booking_id)).first()


def payload(order: PaymentOrder, **extra) -> dict:
    """What the ministry learns of a payment: amounts, ids and statuses, never who paid."""
    return {"order_id": str(order.id), "booking_id": str(order.booking_id), "institution_id": str(order.institution_id),
            "amount_fen": order.amount_fen, "status": order.status, **extra}


def _expired(order: PaymentOrder, now: datetime) -> bool:
    return order.status == OrderStatus.closed or (order.status == OrderStatus.created and order.expires_at <= now)


def view(session: Session, booking: Booking, *, now: datetime | None = None) -> PaymentPublic:
    """The booking's payment as its owner sees it: free, unpriced, unpaid, or its order's state."""
    if booking.free_by_policy:
        return PaymentPublic(booking_id=booking.id, state=PaymentState.free, amount_fen=0)
    if not booking.fee_fen:
        return PaymentPublic(booking_id=booking.id, state=PaymentState.unpriced, amount_fen=None)
    order = order_of(session, booking.id)
    if order is None:
        return PaymentPublic(booking_id=booking.id, state=PaymentState.unpaid, amount_fen=booking.fee_fen)
    state = PaymentState.closed if _expired(order, now or utcnow()) else PaymentState(order.status)
    return PaymentPublic(booking_id=booking.id, state=state, amount_fen=order.amount_fen, order_no=order.order_no,
                         pay_url=order.pay_url if state == PaymentState.created else None, paid_at=order.paid_at,
                         refunded_at=order.refunded_at)


def _payable(session: Session, booking: Booking, now: datetime) -> PaymentOrder | None:
    """Refuse what cannot be paid; the order that can be reused as it is, if there is one."""
    if booking.free_by_policy:
        raise Conflict("booking_id", "payment_free", "the service is free by policy (基本殡葬服务减免): nothing to pay")
    if not booking.fee_fen:
        raise Conflict("booking_id", "payment_unpriced", "the booked service has no published fee to pay online")
    if slots.live_status(booking, now) not in slots.LIVE:
        raise Conflict("booking_id", "booking_status", "the booking is cancelled or its hold ran out")
    order = order_of(session, booking.id)
    if order is not None and order.status in SETTLED:
        raise Conflict("booking_id", "payment_settled", "the booking is paid already")
    return order if order is not None and not _expired(order, now) else None


def start(session: Session, *, ctx: TenantContext, principal: Principal, booking_id: uuid.UUID, data: PaymentStart,
          origin: str, notify_url: str, now: datetime | None = None) -> PaymentPublic:
    """The order for the citizen's booking, sent to the provider: its pay URL. An open order is reused; one that
    expired unpaid gets a new number (the provider never takes a number twice)."""
    now = now or utcnow()
    booking = own_booking(session, principal, booking_id)
    if (reusable := _payable(session, booking, now)) is not None:
        return view(session, booking, now=now)
    provider = ctx.payments.require()
    order_no = f"ZF{uuid.uuid4().hex[:20].upper()}"
    expires_at = min(now + timedelta(minutes=ctx.settings.payment_order_minutes), booking.starts_at)
    try:
        pay_url = provider.create_payment(Charge(order_no=order_no, amount_fen=booking.fee_fen,
                                                 description=f"殡葬服务预约 {booking.number}", expires_at=expires_at,
                                                 notify_url=notify_url, return_url=origin + data.return_path))
    except ProviderError as err:
        raise PaymentUnavailable("payment", "payment_provider", str(err)) from err
    with ctx.journal.write(session, actor=principal.subject) as unit:
        booking = own_booking(session, principal, booking_id)
        reusable = _payable(session, booking, now)
        if reusable is not None:  # another request of the citizen's made one meanwhile
            raise Conflict("booking_id", "payment_started", "a payment of this booking was started meanwhile")
        order = order_of(session, booking.id) or PaymentOrder(
            booking_id=booking.id, institution_id=booking.institution_id, owner_subject=principal.subject,
            order_no=order_no, amount_fen=booking.fee_fen, status=OrderStatus.created, pay_url=pay_url,
            expires_at=expires_at, created_at=now)
        order.order_no, order.amount_fen, order.status = order_no, booking.fee_fen, OrderStatus.created
        order.pay_url, order.expires_at, order.updated_at = pay_url, expires_at, now
        session.add(order)
        session.flush()
        unit.record(action="payment.create", object_type=ORDER, object_id=order.id, event_type="payment.created",
                    payload=payload(order, expires_at=expires_at.isoformat()))
        result = view(session, booking, now=now)
    return result


def receive_notice(session: Session, *, ctx: TenantContext, headers, body: bytes,
                   now: datetime | None = None) -> None:
    """Apply a notice the provider signed: an order paid or a refund made. A repeated delivery of the same
    notice changes nothing; anything forged, stale, replayed or not matching its order is refused."""
    provider = ctx.payments.provider
    if provider is None:
        raise NoNoticeExpected("notice", "payment_unavailable", "online payment is not offered by this province")
    try:
        notice = provider.verify_notification(headers, body)
    except signing.SignatureRefused as err:
        raise NoticeRefused("notice", err.rule, str(err)) from err
    except (ValueError, KeyError, TypeError) as err:
        raise NoticeRefused("notice", "notice_body", "the notice is not one the provider sends") from err
    now = now or utcnow()
    with ctx.journal.write(session, actor=PROVIDER_ACTOR) as unit:
        if session.get(PaymentNotice, notice.nonce) is not None:
            raise NoticeConflict("notice", "notice_replayed", "this notice (its nonce) was received before")
        order = session.exec(select(PaymentOrder).where(PaymentOrder.order_no == notice.order_no)).first()
        if order is None:
            raise NoticeConflict("notice", "notice_order", "no order has this number")
        repeated = session.exec(select(func.count()).select_from(PaymentNotice)
                                .where(PaymentNotice.notice_id == notice.notice_id)).one() > 0
        if not repeated:
            _apply(session, provider, unit, order, notice, now=now)
        session.add(PaymentNotice(nonce=notice.nonce, notice_id=notice.notice_id, order_no=order.order_no,
                                  kind=notice.kind, received_at=now))


def _apply(session: Session, provider: PaymentProvider, unit, order: PaymentOrder, notice: Notice, *,
           now: datetime) -> None:
    if notice.kind == PAID:
        if notice.amount_fen != order.amount_fen:
            raise NoticeConflict("notice", "notice_amount", "the amount paid is not the order's")
        if order.status in SETTLED:  # the same payment told again (another notice id): nothing to change
            return
        settle_paid(session, provider, unit, order, transaction_id=notice.transaction_id, paid_at=notice.at,
                    now=now, found_by="notice")
        return
    if order.status == OrderStatus.refunded and notice.refund_no == order.refund_no:
        return
    if order.status != OrderStatus.refund_requested or notice.refund_no != order.refund_no:
        raise NoticeConflict("notice", "notice_order", "no refund of this order was requested")
    if notice.amount_fen != order.amount_fen:
        raise NoticeConflict("notice", "notice_amount", "the amount refunded is not the order's")
    order.status, order.refunded_at, order.updated_at = OrderStatus.refunded, notice.at, now
    session.add(order)
    unit.record(action="payment.refund", object_type=ORDER, object_id=order.id, event_type="payment.refunded",
                payload=payload(order))


def settle_paid(session: Session, provider: PaymentProvider | None, unit, order: PaymentOrder, *, transaction_id: str,
                paid_at: datetime, now: datetime, found_by: str) -> None:
    """The order is paid (by its notice, or found so by reconciliation). Paid for a booking no longer live (it
    expired or was cancelled while the payer paid): the money goes back at once."""
    order.status, order.transaction_id, order.paid_at, order.updated_at = OrderStatus.paid, transaction_id, paid_at, now
    session.add(order)
    session.flush()
    unit.record(action="payment.pay", object_type=ORDER, object_id=order.id, event_type="payment.paid",
                payload=payload(order), detail={"found_by": found_by})
    booking = session.get(Booking, order.booking_id)
    if slots.live_status(booking, now) not in slots.LIVE:
        request_refund(session, provider, unit, order, now=now, reason="booking_not_live")


def request_refund(session: Session, provider: PaymentProvider | None, unit, order: PaymentOrder, *, now: datetime,
                   reason: str) -> None:
    order.status, order.refund_no = OrderStatus.refund_requested, f"TK{uuid.uuid4().hex[:20].upper()}"
    order.updated_at = now
    session.add(order)
    session.flush()
    unit.record(action="payment.request_refund", object_type=ORDER, object_id=order.id,
                event_type="payment.refund_requested", payload=payload(order, reason=reason))
    send_refunds_after_commit(session, provider, [order])


def send_refunds_after_commit(session: Session, provider: PaymentProvider | None, orders: list[PaymentOrder]) -> None:
    """Ask the provider for the refunds once the unit is committed, off the request's thread: nobody waits on the
    network holding the write head. A request lost here stays `refund_requested` and the daily reconciliation
    asks again (the provider makes a refund number's refund once)."""
    asks = [(order.order_no, order.amount_fen, order.refund_no) for order in orders]
    if provider is None or not asks:
        return

    def ask(_session) -> None:
        threading.Thread(target=ask_refunds, args=(provider, asks), daemon=True, name="payment-refunds").start()

    def forget(_session, _transaction=None) -> None:  # the unit rolled back: nothing to refund
        if event.contains(session, "after_commit", ask):
            event.remove(session, "after_commit", ask)

    event.listen(session, "after_commit", ask, once=True)
    event.listen(session, "after_soft_rollback", forget, once=True)


def ask_refunds(provider: PaymentProvider, asks: list[tuple[str, int, str]]) -> None:
    for order_no, amount_fen, refund_no in asks:
        try:
            provider.refund(order_no, amount_fen, refund_no)
        except ProviderError:
            log.warning("a refund request was not accepted; the reconciliation asks again", exc_info=True)


def booking_cancelled(session: Session, *, ctx: TenantContext, unit, booking: Booking, now: datetime) -> None:
    """The hook of a cancelled booking (in its unit of write): a paid order is refunded, an open one closed."""
    order = order_of(session, booking.id)
    if order is None:
        return
    if order.status == OrderStatus.paid:
        provider = ctx.payments.provider if ctx.payments else None
        request_refund(session, provider, unit, order, now=now, reason="booking_cancelled")
    elif order.status == OrderStatus.created:
        close(session, unit, order, now=now)


def close(session: Session, unit, order: PaymentOrder, *, now: datetime) -> None:
    order.status, order.updated_at = OrderStatus.closed, now
    session.add(order)
    unit.record(action="payment.close", object_type=ORDER, object_id=order.id, event_type="payment.closed",
                payload=payload(order))


def list_orders(session: Session, *, status: OrderStatus | None, offset: int, limit: int) -> OrdersPublic:
    query = select(PaymentOrder)
    if status is not None:
        query = query.where(PaymentOrder.status == status)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(col(PaymentOrder.updated_at).desc()).offset(offset).limit(limit)).all()
    return OrdersPublic(data=[OrderPublic.model_validate(row, from_attributes=True) for row in rows], count=total)
