"""Online approvals in a real browser (headless Debian Chromium, Playwright, axe-core) over real HTTP on loopback
against `fsp serve`'s app: a citizen's transport application (through the API the citizen pages call) is accepted
and reviewed by a reviewer, refused a rejection without reasons, and approved by the provincial admin, whose page
then shows the permit. Pages are scanned by axe and kept as screenshots at desktop and phone width."""
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner

from browsing import WIDTHS, check_at_each_width
from factories import transport_approval_payload
from provisioning_cli.main import app as fsp_app
from served import serving_locally


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[str, dict]]:
    """`fsp up beijing`, `fsp serve`'s app on loopback, and a citizen's transport application."""
    home = tmp_path_factory.mktemp("fsp-home")
    runner = CliRunner()
    for args in (["up", "beijing"], ["token", "beijing", "--role", "citizen"]):
        result = runner.invoke(fsp_app, [*args, "--home", str(home)])
        assert result.exit_code == 0, result.output
    headers = {"Authorization": f"Bearer {result.stdout.strip()}"}
    with serving_locally(home) as url, httpx.Client(base_url=url, timeout=30) as client:
        made = client.post("/beijing/api/v1/approvals", json=transport_approval_payload(), headers=headers)
        assert made.status_code == 201, made.text
        yield url, made.json()["approval"]


def _sign_in(browser: Browser, base_url: str, username: str, role: str) -> Page:
    page = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, locale="zh-CN").new_page()
    page.goto(base_url + "/beijing/workbench/approvals")
    expect(page.locator("h1")).to_have_text("工作人员登录")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("角色").select_option(label=role)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("h1")).to_have_text("网上审批")
    return page


def test_a_transport_is_accepted_reviewed_and_approved_in_the_workbench(browser: Browser, served):
    base_url, approval = served
    page = _sign_in(browser, base_url, "shen.he", "审核员")
    try:
        page.get_by_label("事项").select_option(label="遗体跨省运输")
        page.get_by_role("button", name="筛选").click()
        expect(page.get_by_role("status")).to_have_text("共 1 件")
        check_at_each_width(page, "workbench-approvals")
        page.get_by_role("link", name=approval["number"]).click()
        expect(page.locator("h1")).to_have_text(f"申请 {approval['number']}")
        page.get_by_role("button", name="受理", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("已受理")
        page.get_by_label("意见").fill("材料齐全，符合条件")
        page.get_by_role("button", name="审查完毕，提交决定").click()
        expect(page.get_by_role("status")).to_contain_text("已完成审查")
        check_at_each_width(page, "workbench-approval-reviewed")
    finally:
        page.context.close()

    page = _sign_in(browser, base_url, "sheng.guan", "省级管理员")
    try:
        page.goto(f"{base_url}/beijing/workbench/approvals/{approval['id']}")
        page.get_by_role("button", name="不予许可").click()  # without reasons: refused beside the field
        expect(page.locator("#reject_reasons-error")).to_be_visible()
        page.get_by_role("button", name="准予许可").click()
        expect(page.get_by_role("status")).to_contain_text("已准予许可")
        expect(page.get_by_role("heading", name="遗体跨省运输证明")).to_be_visible()
        expect(page.locator("dl.facts").last).to_contain_text("110000-YZ-")
        check_at_each_width(page, "workbench-approval-approved")
    finally:
        page.context.close()
