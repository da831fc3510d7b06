"""A citizen pays a booking through the sandbox provider (its own process, over loopback HTTP); the provider's
signed notice makes the order paid; forged, stale, replayed or mismatched notices change nothing; a cancelled
booking's fee is refunded."""
import json
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlmodel import select

from assertions import assert_problem, count, last_audit
from factories import create_resource
from payment_sandbox import FEE_FEN, book, publish_fee, wait_for
from registry.audit.models import AuditEntry
from registry.outbox.models import OutboxEvent
from registry.payments import signing
from registry.payments.models import PaymentOrder
from registry.payments.runtime import Payments

RETURN = "/beijing/my/bookings?done=paid"


def payment_of(http, citizen, booking) -> dict:
    response = http.get(f"/api/v1/my/bookings/{booking['id']}/payment", headers=citizen)
    assert response.status_code == 200, response.text
    return response.json()


def start(http, citizen, booking) -> dict:
    response = http.post(f"/api/v1/my/bookings/{booking['id']}/payment", json={"return_path": RETURN}, headers=citizen)
    assert response.status_code == 200, response.text
    return response.json()


def events(session, event_type: str) -> list[OutboxEvent]:
    session.rollback()
    return list(session.exec(select(OutboxEvent).where(OutboxEvent.event_type == event_type)))


def audits(session, action: str) -> int:
    session.rollback()
    return len(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


def pay_at_sandbox(payment: dict) -> httpx.Response:
    """The payer confirms on the provider's pay page; it sends them back to the portal."""
    page = httpx.get(payment["pay_url"], timeout=10)
    assert page.status_code == 200 and "确认支付 ¥380.00" in page.text
    return httpx.post(payment["pay_url"], timeout=20)


@pytest.fixture
def paid(http, session, citizen, hall):
    booking = book(http, citizen, hall)
    payment = start(http, citizen, booking)
    back = pay_at_sandbox(payment)
    assert (back.status_code, back.headers["location"]) == (303, str(http.base_url).rstrip("/") + RETURN)
    return booking, payment


def test_a_citizen_pays_the_published_fee_and_the_providers_notice_makes_it_paid(http, session, citizen, hall):
    booking = book(http, citizen, hall)
    assert payment_of(http, citizen, booking) | {"booking_id": None} == {
        "booking_id": None, "state": "unpaid", "amount_fen": FEE_FEN, "order_no": None, "pay_url": None,
        "paid_at": None, "refunded_at": None}
    payment = start(http, citizen, booking)
    assert (payment["state"], payment["amount_fen"]) == ("created", FEE_FEN)
    assert payment["pay_url"].startswith("http://127.0.0.1:")
    assert start(http, citizen, booking)["order_no"] == payment["order_no"]  # the open order is reused

    assert pay_at_sandbox(payment).status_code == 303
    done = payment_of(http, citizen, booking)
    assert (done["state"], done["amount_fen"], done["order_no"], done["pay_url"]) == (
        "paid", FEE_FEN, payment["order_no"], None)
    [created], [paid] = events(session, "payment.created"), events(session, "payment.paid")
    assert json.loads(paid.payload) | {"order_id": None} == {
        "order_id": None, "booking_id": booking["id"], "institution_id": hall["institution_id"], "amount_fen": FEE_FEN,
        "status": "paid"}
    assert "张三丰" not in created.payload + paid.payload  # no one's name leaves the province
    assert last_audit(session).actor == "payment-provider"
    again = http.post(f"/api/v1/my/bookings/{booking['id']}/payment", json={"return_path": RETURN}, headers=citizen)
    assert_problem(again, 409, "booking_id", "payment_settled")


def test_a_repeated_notice_changes_nothing_and_a_replayed_one_is_refused(http, session, sandbox, paid):
    _, payment = paid
    retry = sandbox.call("POST", f"/sandbox/transactions/{payment['order_no']}/notification", json={"send": True})
    assert retry.status_code == 200  # the provider's retry: same notice id, a new nonce; the registry said 200
    assert len(events(session, "payment.paid")) == 1 and audits(session, "payment.pay") == 1
    first = sandbox.call("GET", f"/sandbox/transactions/{payment['order_no']}/notifications").json()["sent"][0]
    replayed = http.post("/api/v1/payments/notifications", content=first["body"].encode(), headers=first["headers"])
    body = assert_problem(replayed, 409, "notice", "notice_replayed")
    assert body["errors"][0]["message"] == "该支付通知已经收到过，不再受理（重放）。"
    assert last_audit(session).result == "refused"
    assert len(events(session, "payment.paid")) == 1


def test_forged_stale_and_mismatched_notices_are_refused_and_leave_the_order_unpaid(http, session, sandbox, citizen,
                                                                                     hall):
    booking = book(http, citizen, hall)
    order_no = start(http, citizen, booking)["order_no"]

    def made(**options) -> dict:
        answer = sandbox.call("POST", f"/sandbox/transactions/{order_no}/notification", json=options)
        assert answer.status_code == 200
        return answer.json()

    def post(message: dict, body: bytes | None = None):
        return http.post("/api/v1/payments/notifications", content=body or message["body"].encode(),
                         headers=message["headers"])

    genuine = made()
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged_body = genuine["body"].encode()
    forged = {"headers": signing.sign(forger, forged_body), "body": genuine["body"]}
    tampered = genuine["body"].replace(f'"total": {FEE_FEN}', '"total": 1').encode()
    unknown = sandbox.call("POST", "/v3/pay/transactions", json={
        "mchid": "1900000109", "out_trade_no": "ZFNOTOURS0001", "description": "x", "amount": {"total": FEE_FEN},
        "time_expire": datetime.now(UTC).isoformat(), "notify_url": "http://127.0.0.1:9/", "return_url": "/"})
    assert unknown.status_code == 200
    other_order = sandbox.call("POST", "/sandbox/transactions/ZFNOTOURS0001/notification", json={}).json()
    before = count(session, AuditEntry)
    for response, status, rule in (
            (post(forged), 422, "notice_signature"), (post(genuine, tampered), 422, "notice_signature"),
            (post(made(age_seconds=600)), 422, "notice_stale"), (post(made(amount_fen=1)), 409, "notice_amount"),
            (post(other_order), 409, "notice_order"),
            (http.post("/api/v1/payments/notifications", content=b"{}"), 422, "notice_signature")):
        assert_problem(response, status, "notice", rule)
    assert count(session, AuditEntry) == before + 6  # each refusal audited, nothing else written
    assert payment_of(http, citizen, booking)["state"] == "created" and events(session, "payment.paid") == []
    assert post(genuine).status_code == 200  # the genuine one, still fresh, is taken
    assert payment_of(http, citizen, booking)["state"] == "paid"


def test_past_a_limit_of_refused_notices_a_client_gets_429_without_more_audit(http, session, app):
    app.state.ctx.payments.refused_notices.max_failures = 3
    answers = [http.post("/api/v1/payments/notifications", content=b"{}").status_code for _ in range(5)]
    assert answers == [422, 422, 429, 429, 429]
    assert_problem(http.post("/api/v1/payments/notifications", content=b"{}"), 429, "notice", "too_many_notices")


@pytest.mark.parametrize("by", ["citizen", "staff"])
def test_cancelling_a_paid_booking_refunds_it_through_the_provider(http, session, citizen, registrar, paid, by):
    booking, payment = paid
    path, headers = ((f"/api/v1/my/bookings/{booking['id']}/cancel", citizen) if by == "citizen"
                     else (f"/api/v1/bookings/{booking['id']}/cancel", registrar))
    assert http.post(path, json={}, headers=headers).status_code == 200
    assert payment_of(http, citizen, booking)["state"] in ("refund_requested", "refunded")
    done = wait_for(lambda: (found := payment_of(http, citizen, booking))["state"] == "refunded" and found)
    assert done["refunded_at"] is not None
    assert [len(events(session, kind)) for kind in ("payment.refund_requested", "payment.refunded")] == [1, 1]


def test_cancelling_an_unpaid_booking_closes_its_order(http, session, citizen, hall):
    booking = book(http, citizen, hall)
    start(http, citizen, booking)
    assert http.post(f"/api/v1/my/bookings/{booking['id']}/cancel", json={}, headers=citizen).status_code == 200
    assert payment_of(http, citizen, booking)["state"] == "closed"
    assert len(events(session, "payment.closed")) == 1 and events(session, "payment.refund_requested") == []


class Recorder:
    """A provider that only notes that it was called."""
    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args, **kwargs: self.calls.append(name)


def test_a_basic_service_free_by_policy_is_never_charged(client, session, app, admin, registrar, citizen,
                                                         funeral_home):
    recorder = Recorder()
    app.state.ctx.payments = Payments(provider=recorder)
    item = publish_fee(client, admin, funeral_home["id"], category="basic", pricing_basis="government_set",
                       price_fen=60000)
    free = create_resource(client, registrar, funeral_home["id"], kind="cremation_slot", service_item_id=item["id"],
                           free_by_policy=True)
    booking = book(client, citizen, free)
    shown = client.get(f"/api/v1/my/bookings/{booking['id']}/payment", headers=citizen).json()
    assert (shown["state"], shown["amount_fen"]) == ("free", 0)
    refused = client.post(f"/api/v1/my/bookings/{booking['id']}/payment", json={"return_path": RETURN},
                          headers=citizen)
    body = assert_problem(refused, 409, "booking_id", "payment_free")
    assert "基本殡葬服务减免" in body["errors"][0]["message"]
    assert client.post(f"/api/v1/my/bookings/{booking['id']}/cancel", json={}, headers=citizen).status_code == 200
    assert recorder.calls == [] and count(session, PaymentOrder) == 0


@pytest.mark.parametrize(("body", "field", "rule"), [
    ({"return_path": "https://evil.example/steal"}, "return_path", "site_path"),
    ({"return_path": "//evil.example/steal"}, "return_path", "site_path"),
    ({"return_path": "/my/bookings", "amount_fen": 1}, "amount_fen", "extra_forbidden"),
    ({}, "return_path", "missing"),
])
def test_bad_input_is_refused_in_chinese_and_nothing_is_sent(client, session, citizen, hall, body, field, rule):
    booking = book(client, citizen, hall)
    refused = client.post(f"/api/v1/my/bookings/{booking['id']}/payment", json=body, headers=citizen)
    problem = assert_problem(refused, 422, field, rule)["errors"][0]
    assert any("\u4e00" <= char <= "\u9fff" for char in problem["message"])
    assert count(session, PaymentOrder) == 0 and last_audit(session).result == "refused"


def test_another_citizens_booking_is_not_found_and_without_a_provider_payment_is_not_offered(client, mint, app, citizen, hall):
    booking = book(client, citizen, hall)
    other = mint("citizen", subject="citizen-0002")
    for method in ("GET", "POST"):
        answer = client.request(method, f"/api/v1/my/bookings/{booking['id']}/payment", headers=other,
                                json={"return_path": RETURN} if method == "POST" else None)
        assert answer.status_code == 404
    app.state.ctx.payments = Payments(provider=None)
    assert_problem(client.post(f"/api/v1/my/bookings/{booking['id']}/payment", json={"return_path": RETURN},
                               headers=citizen), 409, "payment", "payment_unavailable")
    assert_problem(client.post("/api/v1/payments/notifications", content=b"{}"), 404, "notice", "payment_unavailable")
