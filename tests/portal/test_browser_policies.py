"""A citizen reading the province's policies, guides and notices (政务公开) in a real browser: Debian's chromium
through Playwright against `fsp serve`'s app, each page scanned by axe-core and kept as screenshots (fixtures of
tests/portal/conftest.py)."""
import httpx
import pytest
from playwright.sync_api import Page, expect

from browsing import expect_results


def test_a_citizen_opens_the_service_guides_and_reads_one(page: Page, base_url: str):
    page.goto(base_url + "/beijing/")
    expect(page.get_by_role("heading", name="最新发布")).to_be_visible()
    page.get_by_role("navigation", name="网站导航").get_by_role("link", name="政务公开").click()
    expect(page.locator("h1")).to_have_text("政务公开")

    tabs = page.get_by_role("navigation", name="文件类别")
    tabs.get_by_role("link", name="办事指南").click()
    expect(tabs.get_by_role("link", name="办事指南")).to_have_attribute("aria-current", "page")
    expect_results(page, ["骨灰撒海申请指南", "遗体火化办理指南"])

    page.get_by_label("标题关键词").fill("火化")
    page.get_by_role("button", name="搜索").click()
    expect_results(page, ["遗体火化办理指南"])  # searched within the guides
    expect(page.get_by_label("标题关键词")).to_have_value("火化")

    page.get_by_role("link", name="遗体火化办理指南").click()
    expect(page.locator("h1")).to_have_text("遗体火化办理指南")
    expect(page.locator(".summary-list")).to_contain_text("北京市民政局")
    expect(page.locator(".summary-list")).to_contain_text("2026年1月1日")
    document = page.locator(".document")
    expect(document.get_by_text("二、所需材料", exact=True)).to_be_visible()
    expect(document.locator("p")).to_have_count(11)  # a summary, then one paragraph a line
    page.get_by_role("link", name="返回政务公开").click()
    expect(page.locator("h1")).to_have_text("政务公开")


def _document_path(base_url: str, title: str) -> str:
    listed = httpx.get(f"{base_url}/beijing/api/v1/publications", params={"q": title}).json()["data"]
    return f"/beijing/policies/{listed[0]['id']}"


PAGES = {
    "policies": "/beijing/policies",
    "policies-guides": "/beijing/policies?category=guide",
    "policies-error": "/beijing/policies?category=law&q=火化",
    "policy": None,  # found by title
    "policy-withdrawn-or-unknown": "/beijing/policies/00000000-0000-0000-0000-000000000000",
}


@pytest.mark.parametrize("name", PAGES)
def test_each_policies_page_is_accessible_and_fits_a_phone(check_page, base_url: str, name: str):
    check_page(name, PAGES[name] or _document_path(base_url, "遗体火化办理指南"))
