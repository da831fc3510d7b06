"""The province's side of the national database in a real browser (headless Chromium over real HTTP on loopback
against `fsp serve`'s app): a reviewer settles a cross-province match (跨省重复登记核查), the pair kept in the
province's database as its shipper keeps what the ministry returns; the provincial administrator reads the
province's own figures (本省殡葬数据) once the sweep has counted them. Each page is scanned by axe and kept as
screenshots at desktop and phone width."""
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session
from typer.testing import CliRunner

from browsing import WIDTHS, check_at_each_width
from factories import case_payload
from provisioning_cli.main import app as fsp_app
from provisioning_cli.targets.local import LocalTarget
from registry.cross_province import service as cross_province
from registry.exchange.matches import ReturnedMatch
from registry.journal import Journal
from registry.national import own_figures
from served import serving_locally
from tenants import load_catalog


@pytest.fixture(scope="module")
def served(tmp_path_factory, publisher) -> Iterator[tuple[str, dict]]:
    """`fsp up beijing` served, a case declared at 八宝山殡仪馆, a pair naming it returned by the ministry, and the
    province's own figures brought up to date as its sweep does."""
    home = tmp_path_factory.mktemp("fsp-home")
    runner = CliRunner()

    def token(*args: str) -> dict:
        result = runner.invoke(fsp_app, ["token", "beijing", *args, "--home", str(home)])
        assert result.exit_code == 0, result.output
        return {"Authorization": f"Bearer {result.stdout.strip()}"}

    assert runner.invoke(fsp_app, ["up", "beijing", "--home", str(home)]).exit_code == 0
    admin = token("--role", "provincial-admin")
    catalog = load_catalog()
    target = LocalTarget(home, catalog)
    spec = next(spec for spec in catalog.tenants if spec.slug == "beijing")
    with serving_locally(home) as url, httpx.Client(base_url=url, timeout=30) as api:
        publisher(api, admin, prefix="/beijing")
        institutions = api.get("/beijing/api/v1/institutions", params={"limit": 100}).json()["data"]
        home_id = next(row["id"] for row in institutions if row["name"] == "八宝山殡仪馆")
        declared = api.post("/beijing/api/v1/cases", json={**case_payload(home_id), "deceased_name": "周秉义"},
                            headers=token("--role", "registrar", "--institution", home_id))
        assert declared.status_code == 201, declared.text
        settings = target.settings(spec)
        with target.engine(spec) as engine, Session(engine) as session:
            journal = Journal.of(engine, keys_dir=settings.keys_dir, checkpoint_file=settings.audit_checkpoint_path)
            cross_province.store(session, journal, [ReturnedMatch(
                id=41, case_id=declared.json()["id"], other_province="shandong", other_province_code="370000",
                other_case_id=uuid.uuid4(), found_at=datetime.now(UTC))])
            own_figures.catch_up(session, journal, province=spec.slug, province_code=spec.code)
        yield url, declared.json()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": WIDTHS["desktop"], "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


def _signed_in(page: Page, url: str, username: str, role: str) -> None:
    page.goto(url + "/beijing/workbench/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("角色").select_option(label=role)
    page.get_by_label("用户名").press("Enter")
    expect(page.locator("h1")).to_have_text("工作台")


def test_a_reviewer_finds_the_pair_and_records_it_is_the_same_person(page: Page, served):
    url, case = served
    _signed_in(page, url, "wang.shen", "审核员")
    page.get_by_role("link", name="跨省重复登记核查").click()
    expect(page.locator("h1")).to_have_text("跨省重复登记核查")
    row = page.get_by_role("row").filter(has_text="周秉义")
    expect(row).to_contain_text("山东省")
    expect(row).to_contain_text(case["id_number"])  # the masked number, as the registry answers it
    check_at_each_width(page, "workbench-cross-province-matches")

    row.get_by_label("线索 41 的核查结论").select_option(label="同一人，重复登记")
    row.get_by_label("核查说明（选填）").fill("已与山东省核实，本省登记有效")
    row.get_by_role("button", name="提交结论").click()
    expect(page.get_by_role("status").first).to_have_text("已记录：同一人，重复登记。请按规定更正或注销登记有误的案件。")
    settled = page.get_by_role("row").filter(has_text="周秉义")
    expect(settled).to_contain_text("已与山东省核实，本省登记有效")
    expect(settled).to_contain_text("wang.shen")
    check_at_each_width(page, "workbench-cross-province-settled")


def test_the_provincial_admin_reads_the_provinces_own_figures(page: Page, served):
    url, case = served
    _signed_in(page, url, "zhao.guan", "省级管理员")
    page.get_by_role("link", name="本省殡葬数据").click()
    expect(page.locator("h1")).to_have_text("本省殡葬数据")
    expect(page.get_by_role("img", name=re.compile("各月死亡登记人数"))).to_be_visible()
    month = int(case["death_at"][5:7])
    expect(page.get_by_role("row", name=f"{month}月 1", exact=True)).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="殡葬服务机构网上办事占比")).to_contain_text("达标")
    check_at_each_width(page, "workbench-province-figures")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"^CSV\s*（各区县死亡登记）$")).click()
    assert download.value.suggested_filename.startswith("deaths-county-")
