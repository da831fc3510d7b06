"""A citizen finds the red and black lists (红黑名单) from the province's home in a real browser (Debian's chromium
through Playwright against `fsp serve`'s app), after the province evaluated the year; the page is scanned by
axe-core at desktop and phone width (fixtures of tests/portal/conftest.py)."""
import httpx
from playwright.sync_api import Page, expect

from factories import YEAR, penalty_payload


def test_a_citizen_reads_the_years_red_and_black_lists(page: Page, served, base_url: str, check_page):
    admin = served.headers_for("provincial-admin")
    with httpx.Client(base_url=base_url + "/beijing/api/v1", timeout=30) as api:
        institutions = api.get("/institutions", params={"limit": 100}).json()["data"]
        black = institutions[0]
        assert api.post("/credit/penalties", headers=admin, json=penalty_payload(
            black["id"], kind="licence_revocation", decision_no="京民罚〔2026〕88号")).status_code == 201
        assert api.post("/credit/evaluations", headers=admin, json={"year": YEAR}).status_code == 200

    page.goto(base_url + "/beijing/")
    page.get_by_role("link", name="查看殡葬服务机构信用评价红黑名单").click()
    expect(page.locator("h1")).to_have_text("殡葬服务机构信用评价红黑名单")
    blacklist = page.get_by_role("region", name=f"{YEAR} 年度黑名单")
    expect(blacklist.get_by_role("rowheader")).to_have_text([black["name"]])
    expect(blacklist).to_contain_text("受到严重行政处罚（京民罚〔2026〕88号）")
    redlist = page.get_by_role("region", name=f"{YEAR} 年度红名单")
    expect(redlist.get_by_role("rowheader")).to_have_count(len(institutions) - 1)
    check_page("credit-lists", "/beijing/credit-lists")
