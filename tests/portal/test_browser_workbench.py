"""A registrar and a reviewer doing a case's work in a real browser: headless Chromium (Debian) driven by
Playwright, over real HTTP on loopback against `fsp serve`'s app run by uvicorn, signed in through the development
sign-in form. Every page on the way is scanned by axe-core and kept as screenshots at desktop and phone width
under build/screenshots/ (git-ignored), as test_browser.py does for the public portal."""
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright
from typer.testing import CliRunner

from factories import resident_id
from provisioning_cli.main import app as fsp_app
from served import serving_locally

SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
WIDTHS = {"desktop": 1280, "phone": 375}
CHINA = timezone(timedelta(hours=8))
INSTALL_HINT = "run `make test`, which installs them (scripts/apt-install chromium fonts-noto-cjk)"


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail(f"Debian's chromium is not installed: {INSTALL_HINT}", pytrace=False)
    if "Noto Sans CJK" not in subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout:
        pytest.fail(f"no Chinese font (fonts-noto-cjk) is installed: {INSTALL_HINT}", pytrace=False)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium())
        yield browser
        browser.close()


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
    """The page as it is now: no serious or critical axe finding, nothing wider than a phone, screenshots of both."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for device, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=SCREENSHOTS / f"workbench-{name}-{device}.png", full_page=True)
        violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
        assert not violations, [(v["id"], v["help"], [n["target"] for n in v["nodes"]]) for v in violations]
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), f"{name} at {width}px"
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})


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
