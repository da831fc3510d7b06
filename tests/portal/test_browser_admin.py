"""A provincial admin in a real browser (tests/browsing.py): signs in to the workbench through the development
sign-in of `fsp serve`'s app on loopback, adds an institution and its fee; a citizen in another browser sees the fee
on the public page at once. Each admin page is scanned by axe-core and kept as screenshots at both widths."""
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from typer.testing import CliRunner

from browsing import WIDTHS, assert_accessible_and_fits, launched
from factories import credit_code
from provisioning_cli.main import app as fsp_app
from served import serving_locally


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with launched() as browser:
        yield browser


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    """`fsp up beijing`, then `fsp serve`'s app on loopback; the province is empty."""
    home = tmp_path_factory.mktemp("fsp-home")
    result = CliRunner().invoke(fsp_app, ["up", "beijing", "--home", str(home)])
    assert result.exit_code == 0, result.output
    with serving_locally(home) as url:
        yield url + "/beijing"


def a_browser(browser: Browser, width: int = WIDTHS["desktop"]) -> BrowserContext:
    return browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN")


def sign_in_as_admin(page: Page, base_url: str) -> None:
    page.goto(base_url + "/workbench/")
    expect(page.locator("h1")).to_have_text("工作人员登录")  # a stranger is sent to sign in first
    page.get_by_label("用户名").fill("admin-browser")
    page.get_by_label("角色").select_option(label="省级管理员")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_have_text("工作台")


def add_institution(page: Page) -> str:
    """From the workbench's first page to a new institution's page; its path."""
    page.get_by_role("link", name="机构与收费管理").click()
    page.get_by_role("link", name="新增机构").click()
    page.get_by_label("机构名称 *").fill("海淀区殡仪馆")
    page.get_by_label("机构类型 *").select_option(label="殡仪馆")
    page.get_by_label("统一社会信用代码 *").fill(credit_code())
    page.get_by_label("行政区划代码 *").fill("110108")
    page.get_by_label("地址 *").fill("海淀区北清路1号")
    page.get_by_label("联系电话").fill("010-62000000")
    page.get_by_role("button", name="新增机构").click()
    expect(page.locator("h1")).to_have_text("海淀区殡仪馆")
    expect(page.get_by_role("status")).to_contain_text("已新增机构")
    return page.url.split("?")[0].removeprefix(page.url.split("/workbench")[0])


def publish_fee(page: Page) -> None:
    page.get_by_label("服务项目名称 *").fill("遗体火化")
    page.get_by_label("服务类别 *").select_option(label="基本服务")
    page.get_by_label("计价单位 *").fill("具")
    page.get_by_label("收费标准（元） *").fill("480.00")
    page.get_by_label("定价方式 *").select_option(label="政府定价")
    page.get_by_role("button", name="公布收费").click()  # from today: the date field starts there
    expect(page.get_by_role("status")).to_contain_text("已公布收费")
    expect(page.get_by_role("row").filter(has_text="遗体火化")).to_contain_text("480.00 元")


def test_an_admin_publishes_a_fee_that_a_citizen_sees_at_once(browser: Browser, base_url: str):
    admin, citizen = a_browser(browser), a_browser(browser)
    try:
        page = admin.new_page()
        sign_in_as_admin(page, base_url)
        path = add_institution(page)
        public = citizen.new_page()
        public.goto(base_url + path.removeprefix("/workbench"))
        expect(public.get_by_text("该机构尚未公布收费", exact=False)).to_be_visible()  # now kept in the cache
        publish_fee(page)
        public.reload()
        cremation = public.get_by_role("row").filter(has_text="遗体火化")
        expect(cremation).to_contain_text("480.00 元")
        expect(cremation).to_contain_text("政府定价")
    finally:
        admin.close()
        citizen.close()


def test_a_refused_fee_keeps_what_was_typed_and_leads_to_its_field(browser: Browser, base_url: str):
    admin = a_browser(browser)
    try:
        page = admin.new_page()
        sign_in_as_admin(page, base_url)
        add_institution(page)
        page.get_by_label("服务项目名称 *").fill("遗体接运")
        page.get_by_label("收费标准（元） *").fill("300.005")
        page.get_by_role("button", name="公布收费").click()
        summary = page.get_by_role("alert")
        summary.get_by_role("link", name="收费标准最多保留两位小数（精确到分），如 480.00").click()
        expect(page.get_by_label("收费标准（元） *")).to_be_focused()
        expect(page.get_by_label("收费标准（元） *")).to_have_value("300.005")
        expect(page.get_by_label("服务项目名称 *")).to_have_value("遗体接运")
    finally:
        admin.close()


@pytest.mark.parametrize("device", WIDTHS)
def test_each_admin_page_is_accessible_and_fits_a_phone(browser: Browser, base_url: str, device: str):
    admin = a_browser(browser, WIDTHS[device])
    try:
        page = admin.new_page()
        sign_in_as_admin(page, base_url)
        path = add_institution(page)
        assert_accessible_and_fits(page, "admin-institution", device)
        for name, where in {"admin-institutions": "/institutions", "admin-new": "/institutions/new",
                            "admin-edit": path.removeprefix("/workbench") + "/edit"}.items():
            page.goto(base_url + "/workbench" + where)
            assert_accessible_and_fits(page, name, device)
        page.goto(base_url + path)
        page.get_by_role("button", name="公布收费").click()  # every field missing: the page with its refusals
        expect(page.get_by_role("alert")).to_be_visible()
        assert_accessible_and_fits(page, "admin-fee-refused", device)
    finally:
        admin.close()
