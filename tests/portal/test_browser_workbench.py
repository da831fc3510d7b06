"""A registrar and a reviewer doing a case's work in a real browser: headless Chromium (Debian) driven by
Playwright, over real HTTP on loopback against `fsp serve`'s app run by uvicorn, signed in through the development
sign-in form. Every page on the way is scanned by axe-core and kept as screenshots at desktop and phone width
under build/screenshots/ (git-ignored), as test_browser.py does for the public portal."""
import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from typer.testing import CliRunner

from browsing import WIDTHS, check_at_each_width
from factories import resident_id
from provisioning_cli.main import app as fsp_app
from served import serving_locally

CHINA = timezone(timedelta(hours=8))


# the browser: tests/portal/conftest.py


@pytest.fixture(scope="module")
def served(tmp_path_factory, publisher) -> Iterator[tuple[str, dict[str, str]]]:
    """`fsp up beijing` served on loopback, its institutions published; the base URL and a reviewer's API headers."""
    home = tmp_path_factory.mktemp("fsp-home")
    runner = CliRunner()
    tokens = {}
    for role in ("provincial-admin", "reviewer"):
        for args in (["up", "beijing"], ["token", "beijing", "--role", role]):
            result = runner.invoke(fsp_app, [*args, "--home", str(home)])
            assert result.exit_code == 0, result.output
        tokens[role] = {"Authorization": f"Bearer {result.stdout.strip()}"}
    with serving_locally(home) as url, httpx.Client(base_url=url, timeout=30) as client:
        publisher(client, tokens["provincial-admin"], prefix="/beijing")
        yield url, tokens["reviewer"]


def _signed_in(browser: Browser, base_url: str, username: str, role: str, institution: str = "") -> Page:
    """A new browser (own cookies) signed in through the development sign-in form, as a person fills it."""
    page = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, locale="zh-CN").new_page()
    page.goto(base_url + "/beijing/workbench/")
    expect(page.locator("h1")).to_have_text("工作人员登录")
    page.get_by_label("用户名").click()
    page.keyboard.type(username)
    page.get_by_label("角色").select_option(label=role)
    if institution:
        page.get_by_label("所属机构").select_option(label=institution)
    page.get_by_label("用户名").press("Enter")
    expect(page.locator("h1")).to_have_text("工作台")
    return page


def _checked(page: Page, name: str) -> None:
    check_at_each_width(page, f"workbench-{name}")


def _china(hours_ago: float) -> str:
    return (datetime.now(CHINA) - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M")


def _declare(page: Page, id_number: str) -> None:
    page.get_by_label("逝者姓名", exact=True).fill("周秉义")
    page.get_by_label("性别").select_option(label="男")
    page.get_by_label("民族").select_option(label="汉族")
    page.get_by_label("证件类型").select_option(label="居民身份证")
    page.get_by_label("证件号码").fill(id_number)
    page.get_by_label("出生日期").fill("1948-05-06")
    page.get_by_label("户籍地行政区划代码").fill("110105")
    page.get_by_label("死亡时间").fill(_china(30))
    page.get_by_label("死亡地点类型").select_option(label="医疗卫生机构")
    page.get_by_label("死亡方式").select_option(label="正常死亡")
    page.get_by_label("死亡原因类别").select_option(label="疾病")
    page.get_by_label("死亡医学证明编号（选填）").fill("BJ-20260001")
    page.get_by_label("经办人姓名").fill("周秉昆")
    page.get_by_label("与逝者关系").fill("兄弟")
    page.get_by_label("经办人联系电话").fill("13912345678")


def test_a_registrar_signs_in_and_takes_a_case_from_declaration_to_certificate(browser: Browser, served):
    base_url, reviewer_api = served
    registrar = _signed_in(browser, base_url, "li.deng", "登记员", "八宝山殡仪馆")
    _checked(registrar, "home")
    registrar.get_by_role("link", name="死亡登记").click()
    expect(registrar.locator("h1")).to_have_text("死亡登记")
    _checked(registrar, "declaration")

    good = resident_id(birth=datetime(1948, 5, 6).date(), seq=88)
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")  # a wrong check digit
    _declare(registrar, wrong)
    registrar.get_by_role("button", name="提交登记").click()
    expect(registrar.get_by_role("alert")).to_contain_text("请修改以下内容")
    expect(registrar.locator("#id_number-error")).to_be_visible()
    expect(registrar.get_by_label("证件号码")).to_have_value(wrong)  # what was typed is kept
    expect(registrar.get_by_label("经办人姓名")).to_have_value("周秉昆")
    _checked(registrar, "declaration-error")

    registrar.get_by_label("证件号码").fill(good)
    registrar.get_by_role("button", name="提交登记").click()
    expect(registrar.get_by_role("status")).to_have_text("死亡登记已提交，案件已生成。")
    expect(registrar.locator("h1")).to_have_text("案件：周秉义")
    case_path = re.sub(r"\?.*$", "", registrar.url.removeprefix(base_url))
    _checked(registrar, "case-declared")

    reviewer = _signed_in(browser, base_url, "wang.shen", "审核员")
    reviewer.goto(base_url + case_path)
    reviewer.get_by_role("button", name="审核通过，予以登记").click()
    expect(reviewer.get_by_role("status")).to_have_text("案件已登记。")
    _checked(reviewer, "case-registered")

    registrar.goto(base_url + case_path)
    registrar.get_by_label("火化炉号").fill("3")
    registrar.get_by_label("操作人员").fill("赵师傅")
    registrar.get_by_label("开始时间").fill(_china(3))
    registrar.get_by_label("结束时间").fill(_china(2))
    registrar.get_by_role("button", name="记录火化").click()
    expect(registrar.get_by_role("status")).to_have_text("火化已记录。")
    registrar.get_by_role("button", name="出具火化证明").click()
    expect(registrar.get_by_role("status")).to_have_text("火化证明已出具。")

    case_id = case_path.rsplit("/", 1)[1]
    listed = httpx.get(f"{base_url}/beijing/api/v1/cases/{case_id}/certificates", headers=reviewer_api).json()
    number = listed["data"][0]["number"]
    row = registrar.get_by_role("row").filter(has_text=number)
    expect(row).to_contain_text("有效")
    expect(row.get_by_role("link", name=f"打印火化证明 {number}")).to_have_attribute(
        "href", f"/beijing/workbench/certificates/{listed['data'][0]['id']}/print")
    _checked(registrar, "case-certificate")
