"""An auditor in a real browser (headless Debian Chromium, Playwright, axe-core) over real HTTP on loopback against
`fsp serve`'s app: signs in through the development sign-in form, reads and filters the audit log, opens an entry's
detail and verifies the chain. Pages are scanned by axe and kept as screenshots at desktop and phone width."""
import json
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner

from browsing import WIDTHS, check_at_each_width
from factories import case_payload, institution_payload
from provisioning_cli.main import app as fsp_app
from served import serving_locally

# the browser: tests/portal/conftest.py


@pytest.fixture(scope="module")
def base_url(tmp_path_factory) -> Iterator[str]:
    """`fsp up beijing`, `fsp serve`'s app on loopback, and three institutions made by the admin (audited)."""
    home = tmp_path_factory.mktemp("fsp-home")
    runner = CliRunner()
    for args in (["up", "beijing"], ["token", "beijing", "--role", "provincial-admin"]):
        result = runner.invoke(fsp_app, [*args, "--home", str(home)])
        assert result.exit_code == 0, result.output
    headers = {"Authorization": f"Bearer {result.stdout.strip()}"}
    with serving_locally(home) as url, httpx.Client(base_url=url, timeout=30) as client:
        for name in ("八宝山殡仪馆", "东郊殡仪馆", "西山公益性公墓"):
            made = client.post("/beijing/api/v1/institutions", json=institution_payload(name=name), headers=headers)
            assert made.status_code == 201, made.text
        yield url


def checked(page: Page, name: str) -> None:
    check_at_each_width(page, name)


def test_an_auditor_signs_in_filters_the_log_and_verifies_the_chain(browser: Browser, base_url: str):
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(base_url + "/beijing/workbench/audit")  # a stranger is sent to sign in first
        expect(page.locator("h1")).to_have_text("工作人员登录")
        page.get_by_label("用户名").fill("shen.ji")
        page.get_by_label("角色").select_option(label="审计员")
        page.get_by_role("button", name="登录", exact=True).click()

        expect(page.locator("h1")).to_have_text("审计日志")
        rows = page.locator("tbody tr")
        expect(rows).to_have_count(4)  # three institutions and this sign-in, newest first
        expect(rows.first).to_contain_text("登录工作台")
        expect(rows.first).to_contain_text("shen.ji")
        checked(page, "workbench-audit")

        page.get_by_label("操作", exact=True).fill("institution.create")
        page.get_by_role("button", name="查询").click()
        expect(rows).to_have_count(3)
        expect(page.get_by_label("操作", exact=True)).to_have_value("institution.create")  # the filter stays
        expect(rows.first).to_contain_text("新增殡葬服务机构")
        detail = rows.first.locator("pre")
        expect(detail).to_be_hidden()
        rows.first.locator("summary").click()
        expect(detail).to_be_visible()

        page.get_by_role("link", name="校验审计链").first.click()
        expect(page.locator("h1")).to_have_text("校验审计链")
        page.get_by_role("button", name="立即校验").click()
        verdict = page.get_by_role("status")
        expect(verdict).to_contain_text("审计链完整：第 1 条至第 4 条记录均未被篡改。")
        expect(verdict).to_contain_text("本次核对记录数：4 条")
        checked(page, "workbench-audit-verify")
    finally:
        context.close()


def test_a_provincial_admin_uploads_archived_cases_and_reads_the_report(browser: Browser, base_url: str):
    institution = httpx.get(f"{base_url}/beijing/api/v1/institutions", params={"q": "八宝山"}).json()["data"][0]
    good = case_payload(institution["id"], archive_ref="BJ-2012/000001", death_at="2012-05-06T10:00:00+08:00")
    bad = case_payload(institution["id"], archive_ref="BJ-2012/000002", death_at="2099-05-06T10:00:00+08:00")
    content = "\n".join(json.dumps(r, ensure_ascii=False) for r in (good, bad)).encode()
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, locale="zh-CN")
    page = context.new_page()
    try:
        page.goto(base_url + "/beijing/workbench/imports")
        page.get_by_label("用户名").fill("sheng.guan")
        page.get_by_label("角色").select_option(label="省级管理员")
        page.get_by_role("button", name="登录", exact=True).click()
        expect(page.locator("h1")).to_have_text("历史数据补录")
        expect(page.get_by_text("不超过 64 KB", exact=False)).to_be_visible()
        checked(page, "workbench-imports")

        page.get_by_label("选择文件").set_input_files(
            files=[{"name": "archive.jsonl", "mimeType": "application/jsonl", "buffer": content}])
        page.get_by_role("button", name="开始导入").click()
        expect(page.get_by_role("status")).to_contain_text("共 2 条记录：新导入 1 条，已导入过 0 条，未导入 1 条。")
        refused = page.locator("tbody tr")
        expect(refused).to_have_count(1)
        expect(refused.first).to_contain_text("BJ-2012/000002")
        expect(refused.first).to_contain_text("死亡时间")
        checked(page, "workbench-imports-report")
    finally:
        context.close()
