"""The portal's pages as HTML over the site's app: what a citizen reads, and every registry URL still answering."""
import re
import uuid

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.routing import Mount

from assertions import text_of
from factories import case_payload
from portal.pages import china_today


def test_home_names_the_province_in_chinese(site_client):
    page = site_client.get("/")

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in page.text
    assert "<h1>北京市殡葬服务平台</h1>" in page.text
    assert 'href="/institutions?type=public_cemetery">公益性公墓</a>' in page.text


def test_registry_urls_still_answer_beside_the_pages(site_client, published):
    listed = site_client.get("/api/v1/institutions")

    assert listed.status_code == 200 and listed.json()["count"] == 3
    assert site_client.get("/healthz").json() == {"status": "ok"}
    assert site_client.get("/readyz").json()["status"] == "ready"
    assert "fsp_build_info" in site_client.get("/metrics").text
    assert site_client.get("/.well-known/jwks.json").json()["keys"]
    assert site_client.get("/static/portal.css").headers["content-type"].startswith("text/css")


def test_directory_searches_by_name_and_filters_by_type_and_region(site_client, published):
    everything = text_of(site_client.get("/institutions").text)
    by_name = text_of(site_client.get("/institutions", params={"q": "八宝山"}).text)
    cemeteries = text_of(site_client.get("/institutions", params={"type": "public_cemetery"}).text)
    haidian = site_client.get("/institutions", params={"region": "110108", "q": "骨灰"}).text

    assert all(name in everything for name in ("八宝山殡仪馆", "西山公益性公墓", "长青骨灰堂"))
    assert "八宝山殡仪馆" in by_name and "西山公益性公墓" not in by_name
    assert "西山公益性公墓" in cemeteries and "八宝山殡仪馆" not in cemeteries and "本页显示 1 家机构" in cemeteries
    assert "长青骨灰堂" in haidian and "西山公益性公墓" not in haidian
    # what was asked stays in the form
    assert 'value="骨灰"' in haidian and '<option value="110108" selected>海淀区</option>' in haidian


def test_an_unknown_type_is_refused_beside_its_field_with_what_was_typed_kept(site_client, published):
    page = site_client.get("/institutions", params={"q": "八宝山", "type": "hospital"})

    assert page.status_code == 400
    summary = page.text.split('class="error-summary"')[1].split("</div>")[0]
    assert "请修改以下内容" in summary and '<a href="#type">请从列表中选择机构类型</a>' in summary
    assert 'id="type-error"' in page.text and 'aria-describedby="type-error" aria-invalid="true"' in page.text
    assert 'value="八宝山"' in page.text
    assert "<title>错误：" in page.text
    assert "八宝山殡仪馆" not in page.text  # no results under a refused filter


def test_a_region_outside_the_offered_list_and_a_long_query_are_refused(site_client, published):
    page = site_client.get("/institutions", params={"region": "370102", "q": "殡" * 51, "page": "0"})

    assert page.status_code == 400
    assert "请从列表中选择所在地区" in page.text
    assert "机构名称或地址不能超过 50 个字" in page.text
    assert "页码应为 1 到 10000 之间的整数" in page.text


def test_the_directory_pages_twenty_at_a_time_keeping_the_filters(site_client, published, add_institutions):
    add_institutions(21)

    first = site_client.get("/institutions", params={"type": "service_station"}).text
    second = site_client.get("/institutions", params={"type": "service_station", "page": "2"}).text

    assert "本页显示 20 家机构" in text_of(first) and "示范殡仪服务站19" in first
    assert 'href="/institutions?type=service_station&amp;page=2">下一页</a>' in first
    assert "本页显示 1 家机构" in text_of(second) and "示范殡仪服务站20" in second
    assert 'href="/institutions?type=service_station">上一页</a>' in second and "下一页" not in second


def test_institution_page_shows_details_and_the_fees_in_force_today(site_client, published):
    page = site_client.get(f"/institutions/{published.ids['八宝山殡仪馆']}")
    words = text_of(page.text)

    assert page.status_code == 200
    assert "<h1>八宝山殡仪馆</h1>" in page.text
    assert "石景山区石景山路9号" in words and "010-68800001" in words and "京民殡许字第001号" in words
    day = china_today()
    today = f"{day.year}年{day.month}月{day.day}日"
    assert f"以下是 {today} 正在执行的收费项目" in words
    assert "遗体火化 普通火化炉 基本服务 480.00 元 具 政府定价 2024年1月1日起" in words
    assert "遗体接运 基本服务 300.00 元 次 政府指导价" in words
    assert "骨灰盒 选择性服务 1,280.00 元 个 市场调节价" in words
    assert "遗体告别" not in words and "遗体冷藏" not in words  # not yet, and no longer, in force


def test_institution_page_shows_hours_commitments_and_where_to_complain(site_client, published):
    words = text_of(site_client.get(f"/institutions/{published.ids['八宝山殡仪馆']}").text)

    assert "服务时间 每日 0:00-24:00（遗体接运）" in words
    assert "服务承诺 24小时接运遗体 明码标价，不强制消费" in words
    assert "主管民政部门 北京市石景山区民政局 监督投诉电话 010-68870000" in words


def test_institution_without_published_fees_or_contact_says_so(site_client, published):
    words = text_of(site_client.get(f"/institutions/{published.ids['长青骨灰堂']}").text)

    assert "该机构尚未公布收费标准。" in words and "联系电话 未公布" in words
    assert "该机构尚未公布服务承诺。" in words and "监督投诉电话 未公布" in words


def test_unknown_institution_is_a_page_in_chinese(site_client):
    missing = site_client.get("/institutions/00000000-0000-0000-0000-000000000000")
    malformed = site_client.get("/institutions/not-an-id")

    assert missing.status_code == malformed.status_code == 404
    assert "找不到该页面" in missing.text and "找不到该页面" in malformed.text


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_a_browser_at_an_unknown_path_gets_the_404_page_in_chinese_with_a_link_home(site):
    # mounted as `fsp serve` mounts it: the link home keeps the tenant's prefix
    with TestClient(Starlette(routes=[Mount("/beijing", app=site)])) as client:
        page = client.get("/beijing/no-such-page", headers=BROWSER)

    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert page.headers["vary"] == "Accept"
    assert "<h1>找不到该页面</h1>" in page.text
    assert '<a href="/beijing/">返回首页</a>' in page.text
    assert "北京市殡葬服务平台" in page.text and '<html lang="zh-CN">' in page.text  # the layout


def test_api_clients_at_an_unknown_path_keep_the_registry_error_shape(site_client):
    unknown_api = site_client.get("/api/v1/no-such-thing", headers=BROWSER)
    no_html_asked = site_client.get("/no-such-page", headers={"Accept": "application/json"})
    any_client = site_client.get("/no-such-page")

    for answer in (unknown_api, no_html_asked, any_client):
        assert answer.status_code == 404 and answer.headers["content-type"] == "application/json"
        assert answer.json()["errors"][0]["rule"] == "route"
    assert site_client.get("/metrics", headers=BROWSER).headers["content-type"].startswith("text/plain")
    assert site_client.get("/healthz", headers=BROWSER).json() == {"status": "ok"}


def test_a_fee_published_through_the_api_shows_on_the_next_load(site_client, published, admin):
    page = f"/institutions/{published.ids['西山公益性公墓']}"
    before = text_of(site_client.get(page).text)  # rendered and kept for the next visitors

    added = site_client.post(f"/api/v1{page}/service-items", headers=admin, json={
        "name": "骨灰撒散", "category": "basic", "unit": "次", "price_fen": 0, "pricing_basis": "government_set",
        "effective_from": "2024-01-01"})
    after = text_of(site_client.get(page).text)

    assert added.status_code == 201, added.text
    assert "骨灰撒散" not in before and "骨灰撒散 基本服务 0.00 元 次 政府定价" in after


def test_case_work_leaves_the_cached_pages(site, site_client, published, admin):
    site_client.get("/institutions")  # rendered and kept
    cached = site.state.pages.generation
    home = published.ids["八宝山殡仪馆"]
    registrar = {"Authorization": "Bearer " + site.state.ctx.issuer.mint("reg-1", ["registrar"],
                                                                          institution_id=uuid.UUID(home))}
    declared = site_client.post("/api/v1/cases", headers=registrar, json=case_payload(home))
    assert declared.status_code == 201, declared.text
    assert site.state.pages.generation == cached


def page_views(client) -> dict[str, float]:
    """`fsp_portal_page_views_total` by page, as the tenant's /metrics exposes it."""
    found = re.findall(r'^fsp_portal_page_views_total\{page="(\w+)"\} (\S+)$', client.get("/metrics").text, re.M)
    return {name: float(value) for name, value in found}


def test_page_views_are_counted_by_page_on_the_tenants_metrics(site_client, published):
    institution = f"/institutions/{published.ids['八宝山殡仪馆']}"
    for path in ("/", "/institutions", "/institutions?q=八宝山", institution, institution):  # the 2nd from cache
        assert site_client.get(path).status_code == 200
    site_client.get("/institutions/not-an-id")
    site_client.get("/no-such-page", headers=BROWSER)
    site_client.get("/api/v1/institutions")  # the API is not a page

    exposition = site_client.get("/metrics").text
    assert "fsp_http_requests_total" in exposition and "fsp_portal_page_views_total" in exposition  # one registry
    assert page_views(site_client) == {"home": 1, "directory": 2, "institution": 2, "not_found": 2}


def test_under_fsp_serves_mount_a_fee_published_shows_on_the_next_load(site, admin, published):
    page = f"/beijing/institutions/{published.ids['西山公益性公墓']}"
    with TestClient(Starlette(routes=[Mount("/beijing", app=site)])) as client:
        before = text_of(client.get(page).text)  # rendered and kept
        added = client.post(f"/beijing/api/v1/institutions/{published.ids['西山公益性公墓']}/service-items",
                            headers=admin, json={"name": "骨灰撒散", "category": "basic", "unit": "次", "price_fen": 0,
                                                 "pricing_basis": "government_set", "effective_from": "2024-01-01"})
        after = text_of(client.get(page).text)

    assert added.status_code == 201, added.text
    assert "骨灰撒散" not in before and "骨灰撒散" in after
