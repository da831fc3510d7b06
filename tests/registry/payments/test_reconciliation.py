"""The daily reconciliation: every kind of difference with the provider's statement is found and recorded, the
safe ones repaired (a lost notice), the rest only reported; through the API, the CLI's core and /metrics."""
import json
from datetime import datetime, timedelta

from sqlmodel import select

from assertions import assert_problem, last_audit
from payment_sandbox import FEE_FEN, book
from registry.audit.models import AuditEntry
from registry.db_types import CHINA_TZ, today_in_china, utcnow
from registry.outbox.models import OutboxEvent
from registry.payments.models import PaymentOrder
from registry.payments.provider import Notice, StatementRow
from registry.payments.runtime import Payments
from registry.reservations.models import Booking

RETURN = {"return_path": "/my/bookings"}


class StatementProvider:
    """A provider whose statement the test writes; its notices are taken as they are (their signatures are
    checked in test_payments.py against the real sandbox)."""

    def __init__(self):
        self.rows: list[StatementRow] = []
        self.refunds: list[tuple] = []

    def create_payment(self, charge) -> str:
        return f"https://pay.example.cn/{charge.order_no}"

    def verify_notification(self, headers, body: bytes) -> Notice:
        data = json.loads(body)
        return Notice(notice_id=data["order_no"], nonce=data["order_no"], kind="paid", order_no=data["order_no"],
                      amount_fen=FEE_FEN, transaction_id="42" + data["order_no"], at=utcnow())

    def query(self, order_no: str):
        return None

    def refund(self, *args) -> None:
        self.refunds.append(args)

    def statement(self, day) -> list[StatementRow]:
        return self.rows


def order(client, citizen, hall, hour: int, *, paid: bool) -> str:
    booking = book(client, citizen, hall, starts_at=_slot(hour))
    answer = client.post(f"/api/v1/my/bookings/{booking['id']}/payment", json=RETURN, headers=citizen)
    assert answer.status_code == 200, answer.text
    order_no = answer.json()["order_no"]
    if paid:
        notified = client.post("/api/v1/payments/notifications", json={"order_no": order_no})
        assert notified.status_code == 200, notified.text
    return order_no


def _slot(hour: int) -> str:
    day = datetime.now(CHINA_TZ).date() + timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=CHINA_TZ).isoformat()


def row(order_no: str, amount: int = FEE_FEN) -> StatementRow:
    return StatementRow(order_no=order_no, transaction_id="42" + order_no, amount_fen=amount, paid_at=utcnow())


def test_each_kind_of_difference_is_found_recorded_and_the_lost_notice_repaired(client, session, app, admin, citizen,
                                                                                hall):
    provider = StatementProvider()
    app.state.ctx.payments = Payments(provider=provider)
    matched, lost, absent, other_amount, expired = (order(client, citizen, hall, hour, paid=paid) for hour, paid in (
        (8, True), (9, False), (10, True), (11, True), (12, False)))
    unknown = "ZFNOTHERE0000000000001"
    provider.rows = [row(matched), row(lost), row(other_amount, FEE_FEN + 100), row(unknown)]
    session.exec(select(PaymentOrder).where(PaymentOrder.order_no == expired)).one().expires_at = utcnow()
    session.commit()  # time passed: the order's payer never came

    answer = client.post("/api/v1/payments/reconciliations", json={"day": today_in_china().isoformat()}, headers=admin)
    assert answer.status_code == 201, answer.text
    result = answer.json()
    assert {key: result[key] for key in ("matched", "missing_at_provider", "missing_locally", "amount_mismatch",
                                         "repaired", "closed")} == {
        "matched": 1, "missing_at_provider": 1, "missing_locally": 2, "amount_mismatch": 1, "repaired": 1, "closed": 1}
    found = {finding["order_no"]: (finding["kind"], finding.get("repaired")) for finding in result["findings"]}
    assert found == {matched: ("matched", None), lost: ("missing_locally", True), unknown: ("missing_locally", False),
                     other_amount: ("amount_mismatch", False), absent: ("missing_at_provider", False)}

    session.rollback()
    statuses = {o.order_no: o.status for o in session.exec(select(PaymentOrder))}
    assert statuses == {matched: "paid", lost: "paid", absent: "paid", other_amount: "paid", expired: "closed"}
    repaired = session.exec(select(AuditEntry).where(AuditEntry.action == "payment.pay")
                            .order_by(AuditEntry.seq.desc()).limit(1)).first()
    assert (repaired.actor, json.loads(repaired.detail) if isinstance(repaired.detail, str) else repaired.detail) == (
        "admin-1", {"found_by": "reconciliation"})
    assert last_audit(session).action == "payment.reconcile"
    reconciled = session.exec(select(OutboxEvent).where(OutboxEvent.event_type == "payment.reconciled")).one()
    assert json.loads(reconciled.payload)["amount_mismatch"] == 1

    listed = client.get("/api/v1/payments/reconciliations", headers=admin).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == result["id"]
    metrics = client.get("/metrics").text
    assert 'fsp_payment_reconciliation_orders{kind="missing_locally"} 2.0' in metrics
    assert 'fsp_payment_orders{status="paid"} 4.0' in metrics and 'fsp_payment_orders{status="closed"} 1.0' in metrics
    assert "fsp_payment_reconciliation_repaired 1.0" in metrics
    orders = client.get("/api/v1/payments/orders", params={"status": "paid"}, headers=admin).json()
    assert orders["count"] == 4


def test_a_payment_whose_notice_the_sandbox_lost_is_found_paid(http, session, sandbox, admin, citizen, hall):
    booking = book(http, citizen, hall)
    order_no = http.post(f"/api/v1/my/bookings/{booking['id']}/payment", json=RETURN,
                         headers=citizen).json()["order_no"]
    assert sandbox.call("POST", f"/sandbox/transactions/{order_no}/pay", params={"notify": "false"}).status_code == 200
    assert http.get(f"/api/v1/my/bookings/{booking['id']}/payment", headers=citizen).json()["state"] == "created"
    # the sandbox serves the whole module (both backends): its statement may hold other tests' payments too
    result = http.post("/api/v1/payments/reconciliations", json={"day": today_in_china().isoformat()},
                       headers=admin).json()
    found = [finding for finding in result["findings"] if finding["order_no"] == order_no]
    assert found == [{"order_no": order_no, "provider_fen": FEE_FEN, "local_fen": FEE_FEN, "kind": "missing_locally",
                      "repaired": True}]
    assert (result["repaired"], result["matched"]) == (1, 0)
    assert http.get(f"/api/v1/my/bookings/{booking['id']}/payment", headers=citizen).json()["state"] == "paid"
    again = http.post("/api/v1/payments/reconciliations", json={"day": today_in_china().isoformat()},
                      headers=admin).json()
    assert (again["matched"], again["repaired"]) == (1, 0)  # a second run finds it matched
    assert [finding["kind"] for finding in again["findings"] if finding["order_no"] == order_no] == ["matched"]


def test_bad_days_and_other_roles_are_refused(client, admin, registrar):
    tomorrow = (today_in_china() + timedelta(days=1)).isoformat()
    for day, rule in (("2026-02-30", "date_from_datetime_parsing"), (tomorrow, "not_future")):
        refused = client.post("/api/v1/payments/reconciliations", json={"day": day}, headers=admin)
        assert_problem(refused, 422, "day", rule)
    assert_problem(client.post("/api/v1/payments/reconciliations", json={"day": today_in_china().isoformat()},
                               headers=registrar), 403, "authorization", "permission")


def test_a_paid_booking_whose_hold_ran_out_is_refunded_by_the_reconciliation(client, session, app, admin, citizen,
                                                                            hall):
    provider = StatementProvider()
    app.state.ctx.payments = Payments(provider=provider)
    order_no = order(client, citizen, hall, 9, paid=True)
    provider.rows = [row(order_no)]
    paid = session.exec(select(PaymentOrder).where(PaymentOrder.order_no == order_no)).one()
    session.get(Booking, paid.booking_id).hold_until = utcnow()  # staff never confirmed it: its place went back
    session.commit()
    result = client.post("/api/v1/payments/reconciliations", json={"day": today_in_china().isoformat()},
                         headers=admin).json()
    assert result["matched"] == 1
    session.rollback()
    refunding = session.exec(select(PaymentOrder).where(PaymentOrder.order_no == order_no)).one()
    assert refunding.status == "refund_requested"
    assert provider.refunds == [(order_no, FEE_FEN, refunding.refund_no)]  # asked once, after the result is written
