"""A citizen using the portal in a real browser: headless Chromium from Debian, driven by Playwright, over real HTTP
on loopback against `fsp serve`'s app. Each page is also scanned by axe-core and kept as screenshots at desktop and
phone width under build/screenshots/ (git-ignored) for people to look at.

Chromium and CJK fonts are Debian packages that `make test` installs: without them these tests fail, never skip.
The browser, the served province and the accessibility check are fixtures of tests/portal/conftest.py.
"""
import re

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from browsing import expect_results


def test_a_citizen_finds_an_institution_and_reads_its_fees(page: Page, base_url: str):
    page.goto(base_url + "/")
    expect(page.locator("h1")).to_have_text("全国殡葬服务平台")
    page.get_by_role("link", name="北京市", exact=True).click()
    expect(page.locator("h1")).to_have_text("北京市殡葬服务平台")

    page.get_by_label("机构名称或地址").fill("八宝山")
    page.get_by_role("button", name="搜索").click()
    expect(page.locator("h1")).to_have_text("殡葬服务机构")
    expect_results(page, ["八宝山殡仪馆"])

    page.get_by_label("机构名称或地址").fill("")
    page.get_by_label("机构类型").select_option(label="公益性公墓")
    page.get_by_role("button", name="筛选").click()
    expect_results(page, ["西山公益性公墓"])
    expect(page.get_by_label("机构类型")).to_have_value("public_cemetery")  # the choice stays chosen

    page.get_by_label("机构类型").select_option(label="殡仪馆")
    page.get_by_role("button", name="筛选").click()
    page.get_by_role("link", name="八宝山殡仪馆").click()

    expect(page.locator("h1")).to_have_text("八宝山殡仪馆")
    expect(page.locator(".summary-list").first).to_contain_text("石景山区石景山路9号")
    fees = page.get_by_role("table")
    cremation = fees.get_by_role("row").filter(has_text="遗体火化")
    expect(cremation).to_contain_text("480.00 元")
    expect(cremation).to_contain_text("政府定价")
    expect(cremation).to_contain_text("2024年1月1日起")
    expect(fees.get_by_role("row").filter(has_text="骨灰盒")).to_contain_text("1,280.00 元")
    expect(fees).not_to_contain_text("遗体告别")  # its price applies only from next month
    expect(page.get_by_role("heading", name="服务承诺")).to_be_visible()
    expect(page.get_by_role("link", name="010-68870000")).to_have_attribute("href", "tel:010-68870000")


def test_a_bad_filter_shows_the_error_summary_and_keeps_what_was_typed(page: Page, base_url: str):
    page.goto(base_url + "/beijing/institutions?q=八宝山&type=hospital")

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("请修改以下内容")
    expect(page).to_have_title(re.compile("^错误："))
    expect(page.get_by_label("机构名称或地址")).to_have_value("八宝山")
    summary.get_by_role("link", name="请从列表中选择机构类型").click()
    expect(page.get_by_label("机构类型")).to_be_focused()  # the summary leads to the field


def test_the_keyboard_reaches_the_content_first(page: Page, base_url: str):
    page.goto(base_url + "/beijing/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="跳到主要内容")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("机构名称或地址")).to_be_focused()


PAGES = {
    "index": "/",
    "home": "/beijing/",
    "directory": "/beijing/institutions",
    "directory-error": "/beijing/institutions?q=八宝山&type=hospital",
    "institution": None,  # found by name
    "not-found": "/beijing/institutions/00000000-0000-0000-0000-000000000000",
    "unknown-path": "/beijing/no-such-page",
}


@pytest.mark.parametrize("name", PAGES)
def test_each_page_is_accessible_and_fits_a_phone(check_page, base_url: str, name: str):
    check_page(name, PAGES[name] or _institution_path(base_url, "八宝山殡仪馆"))


def test_on_a_phone_each_fee_is_a_block_of_labels_and_values(browser: Browser, base_url: str, widths: dict[str, int]):
    context = browser.new_context(viewport={"width": widths["phone"], "height": 800}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(base_url + _institution_path(base_url, "八宝山殡仪馆"))
        wrap = page.locator(".table-wrap")
        # the fees fit the screen: their box never scrolls sideways
        assert wrap.evaluate("box => box.scrollWidth <= box.clientWidth"), "the fee table scrolls sideways"
        cremation = page.get_by_role("row").filter(has_text="遗体火化")
        price = cremation.get_by_text("480.00 元")
        expect(price).to_be_visible()
        price.scroll_into_view_if_needed()
        expect(price).to_be_in_viewport(ratio=1)  # wholly on screen, not cut off at its right edge
        # the row is one block: its price sits below its name, labelled (not in a column beside it)
        name_box, price_box = cremation.locator("th").bounding_box(), price.bounding_box()
        assert price_box["y"] >= name_box["y"] + name_box["height"], (name_box, price_box)
        label = price.evaluate("cell => getComputedStyle(cell, '::before').content")
        assert label == '"收费标准"', label
    finally:
        context.close()


def _institution_path(base_url: str, name: str) -> str:
    listed = httpx.get(f"{base_url}/beijing/api/v1/institutions", params={"q": name}).json()["data"]
    return f"/beijing/institutions/{listed[0]['id']}"
