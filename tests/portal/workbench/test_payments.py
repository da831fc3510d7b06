"""网上缴费 in the workbench: the province's admin sees the payment orders and reconciles a day with the provider;
a refused day is shown beside its field; a registrar has no such page."""
import uuid

from factories import create_resource
from payment_sandbox import book, publish_fee
from registry.db_types import today_in_china
from registry.payments.runtime import Payments
from staff_signing import csrf_of


class QuietProvider:
    """A provider with an empty statement, whose pay page is elsewhere."""
    def create_payment(self, charge) -> str:
        return f"https://pay.example.cn/pay/{charge.order_no}"

    def query(self, order_no: str):
        return None

    def statement(self, day) -> list:
        return []


def test_the_admin_sees_orders_and_reconciles_a_day(site, site_client, admin, staff_client, institution_id):
    site.state.ctx.payments = Payments(provider=QuietProvider())
    token = site.state.ctx.issuer.mint("registrar-api", ["registrar"], institution_id=uuid.UUID(institution_id))
    item = publish_fee(site_client, admin, institution_id)
    hall = create_resource(site_client, {"Authorization": f"Bearer {token}"}, institution_id,
                           service_item_id=item["id"])
    citizen = {"Authorization": f"Bearer {site.state.ctx.issuer.mint('citizen-0001', ['citizen'])}"}
    booking = book(site_client, citizen, hall)
    order_no = site_client.post(f"/api/v1/my/bookings/{booking['id']}/payment", json={"return_path": "/my"},
                                headers=citizen).json()["order_no"]
    client = staff_client("provincial-admin")
    assert "网上缴费与对账" in client.get("/workbench/").text
    page = client.get("/workbench/payments")
    assert page.status_code == 200 and order_no in page.text and "380.00" in page.text and "待支付" in page.text
    assert "共 0 笔订单" in client.get("/workbench/payments", params={"status": "paid"}).text

    refused = client.post("/workbench/payments/reconciliations", data={"csrf_token": csrf_of(page.text),
                                                                       "day": "2026-02-30"})
    assert refused.status_code == 400 and 'id="day-error"' in refused.text and 'value="2026-02-30"' in refused.text
    day = today_in_china().isoformat()
    done = client.post("/workbench/payments/reconciliations", data={"csrf_token": csrf_of(page.text), "day": day},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("/workbench/payments?done=reconciled")
    shown = client.get(done.headers["location"])
    assert "对账已完成" in shown.text and f'<th scope="row">{day}</th>' in shown.text


def test_a_registrar_has_no_payments_page(staff_client, institution_id):
    client = staff_client("registrar", institution_id)
    assert client.get("/workbench/payments").status_code == 403
    assert "网上缴费与对账" not in client.get("/workbench/").text
