"""A citizen pays a booking's fee in 我的办事 in a real browser (headless Chromium, Playwright, axe): the fee is
beside the booking, 支付 goes to the sandbox provider's pay page (its own process, over loopback HTTP), and after
paying there the citizen is back in 我的预约 with the booking paid, made so by the provider's signed notice.
Our pages are scanned by axe and kept as screenshots at desktop and phone width."""
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from browsing import WIDTHS, check_at_each_width
from factories import create_institution, create_resource
from kc_double.runner import BackgroundServer
from payment_sandbox import Sandbox, book, publish_fee, running_sandbox
from portal.citizens.signin import development_subject


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path_factory.mktemp("sandbox")) as sandbox:
        yield sandbox


@pytest.fixture
def settings(database_url, tmp_path, sandbox):
    from registry.config import Settings

    return Settings(tenant_code="110000", tenant_slug="beijing", database_url=database_url,
                    keys_dir=tmp_path / "keys", environment="development", **sandbox.settings())


@pytest.fixture
def served(site) -> Iterator[str]:
    """The province's site on loopback, with a funeral home whose farewell hall has a published fee, and a booking
    of it by the citizen who signs in as zhang.san."""
    ctx = site.state.ctx
    admin = {"Authorization": f"Bearer {ctx.issuer.mint('admin-1', ['provincial-admin'])}"}
    with BackgroundServer(site) as url, httpx.Client(base_url=url, timeout=30) as client:
        home = create_institution(client, admin, type="funeral_home", name="八宝山殡仪馆")
        registrar = {"Authorization": "Bearer " + ctx.issuer.mint("registrar-1", ["registrar"],
                                                                   institution_id=uuid.UUID(home["id"]))}
        item = publish_fee(client, admin, home["id"])
        hall = create_resource(client, registrar, home["id"], name="思源厅", service_item_id=item["id"])
        book(client, {"Authorization": f"Bearer {ctx.issuer.mint(development_subject('zhang.san'), ['citizen'])}"},
             hall)
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_a_citizen_pays_a_booking_at_the_provider_and_comes_back_paid(served, page):
    page.goto(served + "/my/")
    page.get_by_label("用户名").fill("zhang.san")
    page.get_by_label("用户名").press("Enter")
    page.get_by_role("link", name="我的预约").click()
    row = page.locator("tbody tr")
    expect(row).to_contain_text("¥380.00 待支付")
    check_at_each_width(page, "my-payment-unpaid")
    row.get_by_role("button", name="支付").click()
    expect(page.locator("h1")).to_have_text("支付沙箱")  # the provider's page, another origin
    page.get_by_role("button", name="确认支付 ¥380.00").click()
    expect(page.locator("h1")).to_have_text("我的预约")
    expect(page.locator(".notice")).to_contain_text("支付已完成")
    expect(page.locator("tbody tr")).to_contain_text("¥380.00 已支付")
    expect(page.locator("tbody tr").get_by_role("button", name="支付")).to_have_count(0)
    check_at_each_width(page, "my-payment-paid")
