"""Builders of credit facts: inspections, penalties, upheld complaints, ratings and overcharged payment orders,
each made through the domain that owns it (orders written as a provider's statement would leave them)."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from factories import booking_payload, create_institution, create_resource, end_booking, slot_start
from registry.payments.models import OrderStatus, PaymentOrder


@pytest.fixture
def post(client):
    def _post(path: str, body: dict | None, headers: dict, status: int = 200) -> dict:
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code == status, answer.text
        return answer.json()
    return _post


@pytest.fixture
def home(client, admin):
    """`home()` → a new funeral home."""
    return lambda: create_institution(client, admin, type="funeral_home")


@pytest.fixture
def upheld_complaint(post, admin, citizen):
    """A complaint against the institution, answered and closed as upheld (or not)."""
    def _complaint(institution: dict, *, upheld: bool = True) -> dict:
        complaint = post("/api/v1/my/complaints", {"institution_id": institution["id"], "category": "pricing",
                                                   "text": "收费未公示", "contact": "13800001234"}, citizen, 201)
        path = f"/api/v1/complaints/{complaint['id']}"
        post(f"{path}/assign", None, admin)
        post(f"{path}/answer", {"answer": "已核实"}, admin)
        post(f"{path}/close", {"upheld": upheld}, admin)
        return complaint
    return _complaint


@pytest.fixture
def ratings(client, post, admin, citizen):
    """The institution's completed services, rated with the scores given."""
    def _rate(institution: dict, scores: list[int]) -> None:
        hall = create_resource(client, admin, institution["id"], capacity=len(scores))
        for score in scores:
            booking = post("/api/v1/my/bookings", booking_payload(hall["id"], starts_at=slot_start(hour=9)), citizen, 201)
            post(f"/api/v1/bookings/{booking['id']}/confirm", None, admin)
            end_booking(client.app.state.ctx.engine, booking["id"])
            post(f"/api/v1/my/bookings/{booking['id']}/rating", {"score": score}, citizen, 201)
    return _rate


@pytest.fixture
def paid_order(client, post, admin, citizen):
    """A booking of a service published at `fee_fen`, and its order paid now at `amount_fen`."""
    def _paid(institution: dict, *, fee_fen: int, amount_fen: int) -> str:
        item = post(f"/api/v1/institutions/{institution['id']}/service-items", {
            "name": f"告别厅使用{uuid.uuid4().hex[:6]}", "category": "optional", "unit": "次", "price_fen": fee_fen,
            "pricing_basis": "market", "effective_from": "2025-01-01"}, admin, 201)
        hall = create_resource(client, admin, institution["id"], service_item_id=item["id"])
        booking = post("/api/v1/my/bookings", booking_payload(hall["id"]), citizen, 201)
        order_no = f"PO{uuid.uuid4().hex[:20].upper()}"
        with Session(client.app.state.ctx.engine) as session:
            now = datetime.now(UTC)
            session.add(PaymentOrder(order_no=order_no, booking_id=uuid.UUID(booking["id"]),
                                     institution_id=uuid.UUID(institution["id"]), owner_subject="citizen-0001",
                                     amount_fen=amount_fen, status=OrderStatus.paid, pay_url="https://pay.example.cn/x",
                                     expires_at=now + timedelta(minutes=30), paid_at=now))
            session.commit()
        return order_no
    return _paid
