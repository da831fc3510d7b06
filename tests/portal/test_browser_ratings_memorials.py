"""A citizen rates a completed booking and creates, then removes, a memorial in 我的办事, in a real browser
(headless Chromium, Playwright, axe) over real HTTP on loopback against `fsp serve`'s app, with no script of the
page's own. Every page is scanned by axe and kept as screenshots at desktop and phone width."""
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner

from browsing import WIDTHS, check_at_each_width
from factories import end_booking, resource_payload, slot_start
from provisioning_cli.main import app as fsp_app
from provisioning_cli.targets.local import LocalTarget
from served import serving_locally
from tenants import load_catalog

HOME = "八宝山殡仪馆"


@pytest.fixture(scope="module")
def served(tmp_path_factory, publisher) -> Iterator[dict]:
    """`fsp up beijing` served, its institutions published, a farewell hall of HOME open for booking; with the
    province's token (to confirm bookings) and a way to let a booking's time pass."""
    home = tmp_path_factory.mktemp("fsp-home")
    runner = CliRunner()
    for args in (["up", "beijing"], ["token", "beijing", "--role", "provincial-admin"]):
        result = runner.invoke(fsp_app, [*args, "--home", str(home)])
        assert result.exit_code == 0, result.output
    admin = {"Authorization": f"Bearer {result.stdout.strip()}"}
    catalog = load_catalog()
    target = LocalTarget(home, catalog)
    spec = next(spec for spec in catalog.tenants if spec.slug == "beijing")

    def completed(booking_id: str) -> None:
        assert api.post(f"/beijing/api/v1/bookings/{booking_id}/confirm", headers=admin).status_code == 200
        with target.engine(spec) as engine:
            end_booking(engine, booking_id)

    with serving_locally(home) as url, httpx.Client(base_url=url, timeout=30) as api:
        publisher(api, admin, prefix="/beijing")
        institutions = api.get("/beijing/api/v1/institutions", params={"limit": 100}).json()["data"]
        home_id = next(row["id"] for row in institutions if row["name"] == HOME)
        created = api.post(f"/beijing/api/v1/institutions/{home_id}/resources", headers=admin,
                           json=resource_payload(name="思源厅"))
        assert created.status_code == 201, created.text
        yield {"url": url, "completed": completed}


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


def _signed_in(page: Page, url: str) -> None:
    page.goto(url + "/beijing/my/")
    page.get_by_label("用户名").fill("zhang.san")
    page.get_by_label("用户名").press("Enter")
    expect(page.locator("h1")).to_have_text("我的办事")


def test_a_citizen_rates_a_completed_booking(served, page):
    _signed_in(page, served["url"])
    page.goto(served["url"] + "/beijing/my/bookings/new")
    page.get_by_label("殡仪服务机构").select_option(label=HOME)
    page.get_by_role("button", name="下一步").click()
    page.get_by_label("预约项目").select_option(label="思源厅（告别厅）")
    page.get_by_label("日期").fill(slot_start(2)[:10])
    page.get_by_role("button", name="下一步").click()
    page.get_by_label("10:00–11:00").check()
    page.get_by_label("姓名").fill("张三丰")
    page.get_by_label("联系电话").fill("13812345678")
    page.get_by_role("button", name="提交预约").click()
    page.get_by_role("link", name="返回我的预约").click()
    change = page.locator("a", has_text="变更时段").first.get_attribute("href")
    served["completed"](re.search(r"bookings/([0-9a-f-]{36})/change", change).group(1))  # confirmed, and held
    page.reload()
    page.locator("a", has_text="评价").first.click()
    expect(page.locator("h1")).to_contain_text("评价服务")
    page.get_by_role("button", name="提交评价").click()  # no score: refused beside the scores
    expect(page.locator(".error-summary a[href=\"#score\"]")).to_have_text("请选择评分")
    check_at_each_width(page, "my-rating-refused")
    page.get_by_label("4 分：满意").check()
    page.get_by_label("评价内容（选填）").fill("礼厅布置庄重，工作人员耐心")
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator(".notice")).to_contain_text("感谢您的评价")
    expect(page.locator("main")).to_contain_text("礼厅布置庄重，工作人员耐心")
    check_at_each_width(page, "my-rating-given")
    page.get_by_role("link", name="返回我的预约").click()
    expect(page.locator("tbody tr").first).to_contain_text("已评价（4 分）")


def test_a_family_creates_an_invitation_memorial_and_removes_it(served, page):
    _signed_in(page, served["url"])
    page.get_by_role("link", name="我的纪念馆").click()
    expect(page.locator("h1")).to_have_text("我的纪念馆")
    check_at_each_width(page, "my-memorials-empty")
    page.get_by_role("link", name="创建纪念馆").click()
    page.get_by_label("逝者姓名").fill("张桂兰")
    page.get_by_label("逝世日期").fill("2025-04-01")
    page.get_by_label("仅凭邀请码查看（不在列表中显示）").check()
    page.get_by_label("同意人姓名").fill("张明")
    page.get_by_label("与逝者的关系").select_option(label="子女")
    page.get_by_role("button", name="创建纪念馆").click()  # consent not given: refused, what was typed kept
    expect(page.locator(".error-summary a[href=\"#consent\"]")).to_have_text("创建纪念馆须由家属确认同意。")
    expect(page.get_by_label("逝者姓名")).to_have_value("张桂兰")
    check_at_each_width(page, "my-memorial-new-refused")
    page.get_by_label("我是逝者的近亲属，或已取得其近亲属同意，同意创建此纪念馆").check()
    page.get_by_role("button", name="创建纪念馆").click()
    expect(page.locator("h1")).to_have_text("纪念馆已创建")
    code = page.locator(".query-code").inner_text().strip()
    assert len(code) >= 8
    check_at_each_width(page, "my-memorial-created")
    page.get_by_role("link", name="管理这个纪念馆").click()
    expect(page.locator("main")).not_to_contain_text(code)
    check_at_each_width(page, "my-memorial")
    page.get_by_role("button", name="撤除纪念馆").click()
    expect(page.locator(".notice")).to_have_text("纪念馆已撤除。")
    expect(page.locator("tbody tr")).to_contain_text("已撤除")
    check_at_each_width(page, "my-memorials-removed")
