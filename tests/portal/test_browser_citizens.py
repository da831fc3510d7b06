"""A citizen in a real browser (headless Chromium driven by Playwright, over real HTTP on loopback against
`fsp serve`'s app): 办件查询 by query code, then the development sign-in to 我的办事 and sign-out. Every page is
scanned by axe-core and kept as screenshots at desktop and phone width under build/screenshots/."""
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner

from browsing import WIDTHS, check_at_each_width
from provisioning_cli.main import app as fsp_app
from registry import online_status, query_codes
from registry.query_codes import PublicStatus
from served import serving_locally

CODE = query_codes.new_code()

# the browser: tests/portal/conftest.py


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[str]:
    """`fsp up beijing` served on loopback, with one (fake) online service that knows CODE."""
    known = PublicStatus("booking", "110000-YY-2026-000012", "confirmed", datetime(2026, 11, 30, 1, 0, tzinfo=UTC),
                         due_on=datetime(2026, 12, 3, 1, 0, tzinfo=UTC))
    home = tmp_path_factory.mktemp("fsp-home")
    result = CliRunner().invoke(fsp_app, ["up", "beijing", "--home", str(home)])
    assert result.exit_code == 0, result.output
    with pytest.MonkeyPatch.context() as patch, serving_locally(home) as url:
        patch.setattr(online_status, "RESOLVERS",
                      (lambda session, digest: known if digest == query_codes.digest(CODE) else None,))
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


def test_a_query_code_shows_where_the_booking_stands(served, page):
    page.goto(served + "/beijing/")
    page.get_by_role("link", name="凭查询码查询办件进度（办件查询）").click()
    expect(page.locator("h1")).to_have_text("办件查询")
    check_at_each_width(page, "citizens-status")
    page.get_by_label("查询码").fill("ABC")
    page.get_by_label("查询码").press("Enter")
    expect(page.locator(".error-summary")).to_contain_text("查询码格式不正确")
    check_at_each_width(page, "citizens-status-refused")
    page.get_by_label("查询码").fill(CODE.lower().replace("-", " "))
    page.get_by_role("button", name="查询").click()
    result = page.locator(".verify-result")
    for shown in ("网上预约", "110000-YY-2026-000012", "已确认", "2026年12月3日"):
        expect(result).to_contain_text(shown)
    check_at_each_width(page, "citizens-status-found")


def test_a_citizen_signs_in_sees_my_area_and_signs_out(served, page):
    page.goto(served + "/beijing/my/")
    expect(page.locator("h1")).to_have_text("公众登录")
    expect(page.locator(".development-banner")).to_contain_text("开发环境")
    check_at_each_width(page, "citizens-sign-in")
    page.get_by_label("用户名").click()
    page.keyboard.type("zhang.san")
    page.get_by_label("用户名").press("Enter")
    expect(page.locator("h1")).to_have_text("我的办事")
    expect(page.locator("main")).to_contain_text("zhang.san，您好")
    check_at_each_width(page, "citizens-my")
    page.get_by_role("button", name="退出登录").click()
    expect(page.locator(".notice")).to_contain_text("您已退出登录")
    page.goto(served + "/beijing/my/")
    expect(page.locator("h1")).to_have_text("公众登录")
