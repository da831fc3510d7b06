"""A citizen books a farewell hall in 我的办事 in a real browser (headless Chromium, Playwright, axe), over real
HTTP on loopback against `fsp serve`'s app, with no script of the page's own: picks the funeral home, the hall,
the day and a free slot, gets the query code once, and finds the booking in 我的预约. Every page is scanned by
axe and kept as screenshots at desktop and phone width."""
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner

from browsing import WIDTHS, check_at_each_width
from factories import resource_payload, slot_start
from provisioning_cli.main import app as fsp_app
from served import serving_locally

HOME = "八宝山殡仪馆"


@pytest.fixture(scope="module")
def served(tmp_path_factory, publisher) -> Iterator[str]:
    """`fsp up beijing` served, its institutions published and a farewell hall of HOME open for booking."""
    home = tmp_path_factory.mktemp("fsp-home")
    runner = CliRunner()
    for args in (["up", "beijing"], ["token", "beijing", "--role", "provincial-admin"]):
        result = runner.invoke(fsp_app, [*args, "--home", str(home)])
        assert result.exit_code == 0, result.output
    admin = {"Authorization": f"Bearer {result.stdout.strip()}"}
    with serving_locally(home) as url, httpx.Client(base_url=url, timeout=30) as client:
        publisher(client, admin, prefix="/beijing")
        institutions = client.get("/beijing/api/v1/institutions", params={"limit": 100}).json()["data"]
        home_id = next(row["id"] for row in institutions if row["name"] == HOME)
        created = client.post(f"/beijing/api/v1/institutions/{home_id}/resources", headers=admin,
                              json=resource_payload(name="思源厅"))
        assert created.status_code == 201, created.text
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_a_citizen_books_a_slot_and_keeps_the_query_code(served, page):
    page.goto(served + "/beijing/my/")
    page.get_by_label("用户名").fill("zhang.san")
    page.get_by_label("用户名").press("Enter")
    page.get_by_role("link", name="我的预约").click()
    expect(page.locator("h1")).to_have_text("我的预约")
    check_at_each_width(page, "my-bookings-empty")
    page.get_by_role("link", name="新建预约").click()
    page.get_by_label("殡仪服务机构").select_option(label=HOME)
    page.get_by_role("button", name="下一步").click()
    page.get_by_label("预约项目").select_option(label="思源厅（告别厅）")
    page.get_by_label("日期").fill(slot_start(2)[:10])
    page.get_by_role("button", name="下一步").click()
    page.get_by_role("button", name="提交预约").click()  # no slot chosen: refused beside the slots
    expect(page.locator(".error-summary a[href=\"#starts_at\"]")).to_have_text("请选择一个时段")
    check_at_each_width(page, "my-bookings-new-refused")
    page.get_by_label("10:00–11:00").check()
    page.get_by_label("姓名").fill("张三丰")
    page.get_by_label("联系电话").fill("13812345678")
    page.get_by_role("button", name="提交预约").click()
    expect(page.locator("h1")).to_have_text("预约已提交")
    code = page.locator(".query-code").inner_text().strip()
    assert len(code) >= 8
    expect(page.locator("main")).to_contain_text("只显示这一次")
    check_at_each_width(page, "my-bookings-made")
    page.get_by_role("link", name="返回我的预约").click()
    row = page.locator("tbody tr")
    expect(row).to_contain_text("思源厅（告别厅）")
    expect(row).to_contain_text("已预留，待确认")
    expect(page.locator("main")).not_to_contain_text(code)
    check_at_each_width(page, "my-bookings-list")
