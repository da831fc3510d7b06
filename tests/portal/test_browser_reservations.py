"""A registrar's reservations in a real browser (headless Chromium, Playwright, axe): over real HTTP on loopback
against `fsp serve`'s app, signed in through the development sign-in, the registrar publishes a farewell hall
(基本殡葬服务减免 on the published cremation fee), a citizen books it through the API, and the registrar confirms
the booking on the day's page. Every page is scanned by axe and kept as screenshots at desktop and phone width."""
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner

from browsing import WIDTHS, check_at_each_width
from provisioning_cli.main import app as fsp_app
from served import serving_locally

HOME = "八宝山殡仪馆"


@pytest.fixture(scope="module")
def served(tmp_path_factory, publisher) -> Iterator[tuple[str, dict[str, str], dict]]:
    """`fsp up beijing` served, its institutions published; the base URL, a citizen's API headers, the home."""
    home = tmp_path_factory.mktemp("fsp-home")
    runner = CliRunner()
    tokens = {}
    for role in ("provincial-admin", "citizen"):
        for args in (["up", "beijing"], ["token", "beijing", "--role", role]):
            result = runner.invoke(fsp_app, [*args, "--home", str(home)])
            assert result.exit_code == 0, result.output
        tokens[role] = {"Authorization": f"Bearer {result.stdout.strip()}"}
    with serving_locally(home) as url, httpx.Client(base_url=url, timeout=30) as client:
        publisher(client, tokens["provincial-admin"], prefix="/beijing")
        institutions = client.get("/beijing/api/v1/institutions", params={"limit": 100}).json()["data"]
        yield url, tokens["citizen"], next(row for row in institutions if row["name"] == HOME)


def _signed_in_registrar(browser: Browser, base_url: str) -> Page:
    page = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, locale="zh-CN").new_page()
    page.goto(base_url + "/beijing/workbench/")
    page.get_by_label("用户名").fill("registrar-bookings")
    page.get_by_label("角色").select_option(label="登记员")
    page.get_by_label("所属机构").select_option(label=HOME)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_have_text("工作台")
    return page


def test_a_registrar_publishes_a_hall_and_confirms_a_citizens_booking(browser: Browser, served):
    base_url, citizen, home = served
    page = _signed_in_registrar(browser, base_url)
    page.get_by_role("link", name="办理预约").click()
    page.get_by_role("link", name="预约项目").click()
    check_at_each_width(page, "workbench-resources-empty")
    page.get_by_role("link", name="新增预约项目").click()
    page.get_by_label("名称", exact=True).fill("思源厅")
    page.get_by_label("每时段名额", exact=True).fill("2")
    page.get_by_label("收费项目", exact=True).select_option(label="遗体火化（480.00 元/具）")
    page.get_by_label("基本殡葬服务减免", exact=True).select_option(label="是")
    check_at_each_width(page, "workbench-resource-new")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status").first).to_contain_text("已新增预约项目")
    expect(page.get_by_role("row").filter(has_text="思源厅")).to_contain_text("告别厅")
    check_at_each_width(page, "workbench-resources")

    with httpx.Client(base_url=base_url + "/beijing", timeout=30) as api:
        hall = api.get(f"/api/v1/institutions/{home['id']}/resources").json()["data"][0]
        day = datetime.now(timezone(timedelta(hours=8))).date() + timedelta(days=1)
        starts = datetime(day.year, day.month, day.day, 9, tzinfo=timezone(timedelta(hours=8))).isoformat()
        booked = api.post("/api/v1/my/bookings", headers=citizen, json={
            "resource_id": hall["id"], "starts_at": starts, "for_name": "张三丰", "for_phone": "13812345678"})
        assert booked.status_code == 201, booked.text
        assert booked.json()["free_by_policy"] is True and booked.json()["fee_fen"] == 48000

    page.goto(f"{base_url}/beijing/workbench/bookings?on={day.isoformat()}")
    row = page.get_by_role("row").filter(has_text="张**")
    expect(row).to_contain_text("待确认")
    expect(row).to_contain_text("政策减免")
    check_at_each_width(page, "workbench-bookings")
    row.get_by_role("button", name="确认").click()
    expect(page.get_by_role("status").first).to_contain_text("已确认预约")
    expect(page.get_by_role("row").filter(has_text="张**")).to_contain_text("已确认")
