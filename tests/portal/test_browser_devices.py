"""A registrar's devices in a real browser (headless Chromium, Playwright, axe): over real HTTP on loopback against
`fsp serve`'s app, signed in through the development sign-in, the registrar registers a cremator (its credential
shown once), the cremator pushes readings with it, the list shows them, and the registrar revokes it. Every page
is scanned by axe and kept as screenshots at desktop and phone width."""
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner

from browsing import WIDTHS, check_at_each_width
from provisioning_cli.main import app as fsp_app
from served import serving_locally

HOME = "八宝山殡仪馆"


@pytest.fixture(scope="module")
def served(tmp_path_factory, publisher) -> Iterator[str]:
    """`fsp up beijing` served, its institutions published; the base URL."""
    home = tmp_path_factory.mktemp("fsp-home")
    runner = CliRunner()
    for args in (["up", "beijing"], ["token", "beijing", "--role", "provincial-admin"]):
        result = runner.invoke(fsp_app, [*args, "--home", str(home)])
        assert result.exit_code == 0, result.output
    admin = {"Authorization": f"Bearer {result.stdout.strip()}"}
    with serving_locally(home) as url, httpx.Client(base_url=url, timeout=30) as client:
        publisher(client, admin, prefix="/beijing")
        yield url


def _signed_in_registrar(browser: Browser, base_url: str) -> Page:
    page = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, locale="zh-CN").new_page()
    page.goto(base_url + "/beijing/workbench/")
    page.get_by_label("用户名").fill("registrar-devices")
    page.get_by_label("角色").select_option(label="登记员")
    page.get_by_label("所属机构").select_option(label=HOME)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("h1")).to_have_text("工作台")
    return page


def test_a_registrar_registers_watches_and_revokes_a_cremator(browser: Browser, served):
    page = _signed_in_registrar(browser, served)
    page.get_by_role("link", name="设备监测").first.click()
    expect(page.locator("h1")).to_have_text("设备监测")
    check_at_each_width(page, "workbench-devices-empty")
    page.get_by_label("设备类型", exact=True).select_option(label="火化炉")
    page.get_by_label("设备型号", exact=True).fill("YQ-2000型")
    page.get_by_label("安装位置", exact=True).fill("一号火化间")
    page.get_by_label("温度上限（℃）", exact=True).fill("1100")
    page.get_by_role("button", name="登记设备").click()
    expect(page.locator("h1")).to_have_text("设备已登记")
    credential = page.get_by_label("设备凭证").input_value()
    device_id = page.locator("code").inner_text()
    check_at_each_width(page, "workbench-device-registered")

    with httpx.Client(base_url=served + "/beijing", timeout=30) as api:
        pushed = api.post(f"/api/v1/devices/{device_id}/readings", headers={"Authorization": f"Device {credential}"},
                          json={"readings": [{"seq": 1, "at": datetime.now(UTC).isoformat(), "metric": "temperature_c",
                                              "value": 861.5}]})
        assert pushed.json()["accepted"] == 1, pushed.text

    page.get_by_role("link", name="返回设备列表").click()
    row = page.get_by_role("row").filter(has_text="YQ-2000型")
    expect(row).to_contain_text("861.5")
    expect(row).to_contain_text("在用")
    check_at_each_width(page, "workbench-devices")
    row.get_by_role("button", name="停用").click()
    expect(page.get_by_role("status").first).to_contain_text("设备已停用")
    expect(page.get_by_role("row").filter(has_text="YQ-2000型")).to_contain_text("已停用")
