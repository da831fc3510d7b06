"""A visitor at an online memorial (网上祭扫) in a real browser: Debian's chromium through Playwright against
`fsp serve`'s app, each page scanned by axe-core and kept as screenshots (fixtures of tests/portal/conftest.py)."""
import httpx
import pytest
from playwright.sync_api import Page, expect

from browsing import check_at_each_width

MEMORIAL = {"deceased_name": "张桂兰", "birth_date": "1938-02-01", "death_date": "2025-04-01",
            "biography": "一生勤劳，乐于助人。\n晚年喜爱书法，常为邻里写春联。", "consented_by": "张明",
            "relation": "child", "consent": True}


@pytest.fixture(scope="module")
def memorial(served) -> dict:
    made = httpx.post(f"{served.url}/beijing/api/v1/my/memorials", json=MEMORIAL,
                      headers=served.headers_for("citizen"), timeout=30)
    assert made.status_code == 201, made.text
    return made.json()


def test_a_visitor_finds_the_memorial_offers_flowers_and_leaves_a_message_for_review(page: Page, base_url: str,
                                                                                      served, memorial: dict):
    page.goto(base_url + "/beijing/")
    page.get_by_role("navigation", name="网站导航").get_by_role("link", name="网上祭扫").click()
    expect(page.locator("h1")).to_have_text("网上祭扫")
    page.get_by_label("逝者姓名").fill("桂兰")
    page.get_by_role("button", name="搜索").click()
    page.get_by_role("link", name="张桂兰纪念馆").click()
    expect(page.locator("h1")).to_have_text("张桂兰纪念馆")
    expect(page.get_by_text("晚年喜爱书法，常为邻里写春联。")).to_be_visible()

    page.get_by_label("署名（选填）").fill("邻居小王")
    page.get_by_label("鲜花").check()
    page.get_by_label("留言（选填）").fill("张奶奶，我们想念您。")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_contain_text("留言已显示在下方")
    expect(page.locator(".result").first).to_contain_text("张奶奶，我们想念您。")
    expect(page.get_by_text("鲜花 1")).to_be_visible()
    check_at_each_width(page, "memorial-posted")

    # a message the word filter holds: not shown, it goes to the staff's review queue
    page.get_by_label("留言（选填）").fill("加微信领取优惠")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("status")).to_contain_text("留言需要审核")
    expect(page.get_by_text("加微信领取优惠")).to_have_count(0)
    queue = httpx.get(f"{base_url}/beijing/api/v1/memorial-messages/review", timeout=30,
                      headers=served.headers_for("provincial-admin")).json()
    assert [row["text"] for row in queue["data"]] == ["加微信领取优惠"]


def test_an_empty_message_is_refused_beside_its_field(page: Page, base_url: str, memorial: dict):
    page.goto(f"{base_url}/beijing/memorials/{memorial['id']}")
    page.get_by_label("署名（选填）").fill("小李")
    page.get_by_role("button", name="提交").click()
    expect(page.get_by_role("alert")).to_contain_text("请填写留言或选择祭品")
    expect(page.get_by_label("署名（选填）")).to_have_value("小李")
    check_at_each_width(page, "memorial-error")


@pytest.mark.parametrize("name", ["memorials", "memorials-search", "memorial"])
def test_each_memorial_page_is_accessible_and_fits_a_phone(check_page, memorial: dict, name: str):
    paths = {"memorials": "/beijing/memorials", "memorials-search": "/beijing/memorials?q=桂兰",
             "memorial": f"/beijing/memorials/{memorial['id']}"}
    check_page(name, paths[name])
