"""A registrar recording a case's remains and ashes in a real browser (Debian's headless Chromium via Playwright,
over loopback against `fsp serve`'s app): keyboard and labels only, axe-core on the page, screenshots at desktop
and phone width under build/screenshots/ (git-ignored). Without chromium or CJK fonts these fail, never skip."""
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner

from browsing import WIDTHS, keep_and_check
from factories import case_payload, institution_payload
from provisioning_cli.main import app as fsp_app
from served import serving_locally

CHINA = timezone(timedelta(hours=8))


# the browser: tests/portal/conftest.py


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[dict]:
    """Beijing served on loopback with a funeral home, a columbarium and a cremated case of the funeral home."""
    home = tmp_path_factory.mktemp("fsp-home")
    runner = CliRunner()

    def fsp(*args: str) -> str:
        result = runner.invoke(fsp_app, [*args, "--home", str(home)])
        assert result.exit_code == 0, result.output
        return result.stdout.strip()

    fsp("up", "beijing")
    bearer = lambda *args: {"Authorization": f"Bearer {fsp('token', 'beijing', *args)}"}  # noqa: E731
    with serving_locally(home) as url, httpx.Client(base_url=url + "/beijing/api/v1", timeout=30) as api:
        admin = bearer("--role", "provincial-admin")
        made = [api.post("/institutions", headers=admin, json=institution_payload(name=name, type=kind)).json()
                for name, kind in (("八宝山殡仪馆", "funeral_home"), ("福寿园骨灰堂", "columbarium"))]
        registrar = bearer("--role", "registrar", "--institution", made[0]["id"])
        case = api.post("/cases", headers=registrar, json=case_payload(made[0]["id"], deceased_name="王守仁")).json()
        assert api.post(f"/cases/{case['id']}/register", headers=bearer("--role", "reviewer")).status_code == 200
        started = datetime.now(UTC) - timedelta(hours=5)
        assert api.post(f"/cases/{case['id']}/cremation", headers=registrar, json={
            "institution_id": made[0]["id"], "started_at": started.isoformat(),
            "ended_at": (started + timedelta(hours=1)).isoformat(), "furnace_no": "F-01",
            "operator_name": "李师傅"}).status_code == 201
        yield {"url": url, "remains": f"{url}/beijing/workbench/cases/{case['id']}/remains"}


def _signed_in(browser: Browser, served: dict, width: int) -> Page:
    page = browser.new_context(viewport={"width": width, "height": 900}, locale="zh-CN").new_page()
    page.goto(served["url"] + "/beijing/workbench/sign-in")
    page.get_by_label("用户名").fill("li.ming")
    page.get_by_label("角色").select_option(label="登记员")
    page.get_by_label("所属机构").select_option(label="八宝山殡仪馆")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    return page


def _local(hours_ago: float) -> str:
    return (datetime.now(CHINA) - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M")


def test_a_registrar_stores_releases_and_records_where_the_ashes_go(browser: Browser, served: dict):
    page = _signed_in(browser, served, WIDTHS["desktop"])
    try:
        page.goto(served["remains"])
        expect(page.locator(".lead")).to_contain_text("王守仁")
        page.get_by_label("冷藏柜编号").fill("A-01")
        page.get_by_label("存放时间").fill(_local(4))
        page.get_by_role("button", name="登记存放").click()
        expect(page.get_by_role("status")).to_have_text("已登记遗体存放。")
        expect(page.get_by_role("row").filter(has_text="A-01")).to_contain_text("存放中")

        page.get_by_label("出柜时间").fill(_local(1))
        page.get_by_role("button", name="登记出柜").click()
        expect(page.get_by_role("status")).to_have_text("已登记遗体出柜。")

        page.get_by_label("去向", exact=True).select_option(label="骨灰堂")
        page.get_by_label("接收机构").select_option(label="福寿园骨灰堂")
        page.get_by_role("button", name="登记骨灰去向").click()
        summary = page.get_by_role("alert")  # no niche given: refused, the choices kept
        expect(summary).to_be_visible()
        expect(page.get_by_label("去向", exact=True)).to_have_value("columbarium")
        summary.get_by_role("link").first.click()
        expect(page.get_by_label("墓位或格位").first).to_be_focused()  # the summary leads to the field
        page.keyboard.type("思园B区3排21号")
        page.get_by_role("button", name="登记骨灰去向").click()
        expect(page.get_by_role("status")).to_have_text("已登记骨灰去向。")
        expect(page.locator("main")).to_contain_text("移交福寿园骨灰堂")
    finally:
        page.context.close()


@pytest.mark.parametrize("device", WIDTHS)
def test_the_remains_page_is_accessible_and_fits_a_phone(browser: Browser, served: dict, device: str):
    page = _signed_in(browser, served, WIDTHS[device])
    try:
        page.goto(served["remains"])
        page.get_by_role("button", name="登记接运").click()  # every field refused: the page at its fullest
        expect(page.get_by_role("alert")).to_be_visible()
        keep_and_check(page, f"workbench-remains-{device}", WIDTHS[device])
    finally:
        page.context.close()
