"""我的办事 · 网上缴费 through the pages: a booking's fee beside it with a 支付 button that sends the payer to the
provider's pay page; a basic service free by policy shows 免费 and has no button; a refusal shown beside it."""
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from citizen_signing import citizen_sign_in
from factories import create_institution, create_resource
from payment_sandbox import book, publish_fee
from portal.citizens.signin import development_subject
from registry.payments.runtime import Payments
from staff_signing import BASE, csrf_of


class PayPage:
    """A provider that answers every charge with its pay page's address."""
    def __init__(self):
        self.charges = []

    def create_payment(self, charge) -> str:
        self.charges.append(charge)
        return f"https://pay.example.cn/pay/{charge.order_no}"


@pytest.fixture
def provider(site) -> PayPage:
    site.state.ctx.payments = Payments(provider=PayPage())
    return site.state.ctx.payments.provider


@pytest.fixture
def resources(site, site_client, admin) -> dict[str, dict]:
    home = create_institution(site_client, admin, type="funeral_home", name="八宝山殡仪馆")
    token = site.state.ctx.issuer.mint("registrar-1", ["registrar"], institution_id=uuid.UUID(home["id"]))
    registrar = {"Authorization": f"Bearer {token}"}
    priced = publish_fee(site_client, admin, home["id"])
    basic = publish_fee(site_client, admin, home["id"], category="basic", pricing_basis="government_set")
    return {"hall": create_resource(site_client, registrar, home["id"], name="思源厅", service_item_id=priced["id"]),
            "free": create_resource(site_client, registrar, home["id"], name="火化", kind="cremation_slot",
                                    service_item_id=basic["id"], free_by_policy=True)}


@pytest.fixture
def citizen_client(site) -> Iterator[TestClient]:
    with TestClient(site, base_url=BASE) as client:
        assert citizen_sign_in(client, "citizen-0001").status_code == 303
        yield client


def signed_in_as(site) -> dict[str, str]:
    """The API headers of the citizen the pages are signed in as."""
    return {"Authorization": f"Bearer {site.state.ctx.issuer.mint(development_subject('citizen-0001'), ['citizen'])}"}


def test_the_fee_is_shown_and_paying_goes_to_the_providers_page(site, site_client, citizen_client, provider,
                                                                 resources):
    citizen = signed_in_as(site)
    booking = book(site_client, citizen, resources["hall"])
    free = book(site_client, citizen, resources["free"])
    page = citizen_client.get("/my/bookings")
    assert "¥380.00 待支付" in page.text and "免费（基本殡葬服务减免）" in page.text
    assert f"/my/bookings/{booking['id']}/pay" in page.text and f"/my/bookings/{free['id']}/pay" not in page.text
    paying = citizen_client.post(f"/my/bookings/{booking['id']}/pay", data={"csrf_token": csrf_of(page.text)},
                                 follow_redirects=False)
    assert paying.status_code == 303 and paying.headers["location"].startswith("https://pay.example.cn/pay/ZF")
    assert provider.charges[0].return_url == "https://testserver/my/bookings?done=paid"
    assert provider.charges[0].amount_fen == 38000 and "张三丰" not in provider.charges[0].description
    assert "待支付" in citizen_client.get("/my/bookings?done=paid").text


def test_a_free_booking_is_refused_beside_it_and_a_form_without_its_token_is_refused(site, site_client, citizen_client,
                                                                                     provider, resources):
    citizen = signed_in_as(site)
    free = book(site_client, citizen, resources["free"])
    page = citizen_client.get("/my/bookings")
    refused = citizen_client.post(f"/my/bookings/{free['id']}/pay", data={"csrf_token": csrf_of(page.text)})
    assert refused.status_code == 409 and "基本殡葬服务减免项目，费用全免" in refused.text
    assert citizen_client.post(f"/my/bookings/{free['id']}/pay", data={}).status_code == 403
    assert provider.charges == []
