"""A person on the ministry's portal in a real browser, over real HTTP on loopback against `fsp serve`'s app: two
provinces publish institutions and ship their outboxes to the ministry with `fsp exchange ship`; the national
directory finds an institution of each, one opens on its province's own portal, and the figures page counts them.
Each page is scanned by axe-core and kept as screenshots (tests/portal/conftest.py).
"""
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect
from typer.testing import CliRunner

from browsing import expect_results
from factories import institution_payload
from provisioning_cli.main import app as fsp_app
from served import serving_locally

runner = CliRunner()


def _fsp(home, *args: str) -> str:
    result = runner.invoke(fsp_app, [*args, "--home", str(home)])
    assert result.exit_code == 0, f"{result.stdout}\n{result.stderr}\n{result.exception!r}"
    return result.stdout


@pytest.fixture(scope="module")
def base_url(tmp_path_factory, publisher) -> Iterator[str]:
    """`fsp up beijing shandong` (and the ministry), `fsp serve` on loopback; beijing publishes three institutions,
    shandong one; both ship to the ministry."""
    home = tmp_path_factory.mktemp("fsp-home")
    _fsp(home, "up", "beijing", "shandong")
    admins = {slug: {"Authorization": "Bearer " + _fsp(home, "token", slug, "--role", "provincial-admin").strip()}
              for slug in ("beijing", "shandong")}
    with serving_locally(home) as url, httpx.Client(base_url=url, timeout=30) as client:
        publisher(client, admins["beijing"], prefix="/beijing")
        made = client.post("/shandong/api/v1/institutions", headers=admins["shandong"], json=institution_payload(
            name="济南市殡仪馆", region_code="370102", address="历下区经十路1号"))
        assert made.status_code == 201, made.text
        _fsp(home, "exchange", "ship", "beijing", "shandong")
        yield url


def test_a_person_finds_an_institution_of_each_province_and_reads_the_figures(page: Page, base_url: str):
    page.goto(base_url + "/")
    page.get_by_role("link", name="民政部全国殡葬服务平台").click()
    expect(page.locator("h1")).to_have_text("全国殡葬服务平台")
    provinces = page.get_by_role("list", name="各省份殡葬服务平台")
    expect(provinces.get_by_role("link", name="北京市")).to_have_attribute("href", "/beijing/")
    expect(provinces.get_by_role("link", name="山东省")).to_have_attribute("href", "/shandong/")

    page.get_by_label("机构名称或地址").fill("殡仪馆")
    page.get_by_role("button", name="搜索").click()
    expect(page.locator(".results-count")).to_have_text("共找到 2 家机构")
    assert sorted(page.locator(".result-name").all_inner_texts()) == ["八宝山殡仪馆", "济南市殡仪馆"]

    page.get_by_label("所在省份").select_option(label="山东省")
    page.get_by_role("button", name="筛选").click()
    expect_results(page, ["济南市殡仪馆"])
    expect(page.get_by_label("所在省份")).to_have_value("shandong")  # the choice stays chosen

    page.get_by_label("所在省份").select_option(label="北京市")
    page.get_by_role("button", name="筛选").click()
    page.get_by_role("link", name="八宝山殡仪馆").click()
    expect(page.locator("h1")).to_have_text("八宝山殡仪馆")
    expect(page.locator(".site-name")).to_have_text("北京市殡葬服务平台")  # on beijing's own portal
    expect(page.get_by_role("table").get_by_role("row").filter(has_text="遗体火化")).to_contain_text("480.00 元")

    page.goto(base_url + "/ministry/")
    page.get_by_role("link", name="全国数据").click()
    expect(page.locator("h1")).to_have_text("全国殡葬服务数据")
    table = page.get_by_role("table", name=re.compile("各省份殡葬服务数据"))
    expect(table.get_by_role("row").filter(has_text="北京市")).to_be_visible()
    expect(table.get_by_role("row").filter(has_text="山东省")).to_be_visible()
    expect(table.get_by_role("row").filter(has_text="合计")).to_be_visible()
    # the plan's KPIs: each cell says pass or behind in words, not by colour
    kpis = page.get_by_role("table", name=re.compile("规划目标完成情况"))
    expect(kpis.get_by_role("row").filter(has_text="北京市")).to_contain_text("达标")


def test_the_ministrys_page_of_an_institution_shows_what_its_province_reported(page: Page, base_url: str):
    listed = httpx.get(f"{base_url}/shandong/api/v1/institutions", params={"q": "济南"}).json()["data"]
    page.goto(f"{base_url}/ministry/institutions/shandong/{listed[0]['id']}")
    expect(page.locator("h1")).to_have_text("济南市殡仪馆")
    expect(page.locator(".caption")).to_contain_text("山东省报送")


PAGES = {
    "ministry-home": "/ministry/",
    "ministry-directory": "/ministry/institutions?q=殡仪馆",
    "ministry-directory-error": "/ministry/institutions?province=atlantis",
    "ministry-figures": "/ministry/figures",
}


@pytest.mark.parametrize("name", PAGES)
def test_each_ministry_page_is_accessible_and_fits_a_phone(scan_page, base_url: str, name: str):
    scan_page(base_url + PAGES[name], name)


def test_the_ministrys_institution_page_is_accessible_and_fits_a_phone(scan_page, base_url: str):
    listed = httpx.get(f"{base_url}/shandong/api/v1/institutions", params={"q": "济南"}).json()["data"]
    scan_page(f"{base_url}/ministry/institutions/shandong/{listed[0]['id']}", "ministry-institution")
