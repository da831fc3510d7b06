"""The provincial admin's institution pages: institutions, their fees and disclosure, written through the API."""
import re
from datetime import timedelta

import pytest

from factories import credit_code
from portal.pages import china_today
from portal.workbench.fees_admin import PriceRefused, fen_of
from staff_signing import csrf_of

TODAY = china_today()


@pytest.fixture
def admin_browser(staff_client):
    return staff_client("provincial-admin")


def post_form(client, page_path: str, action: str, data: dict):
    """Submit a form of the page at `page_path` as a browser would: with the page's CSRF token."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(action, data={"csrf_token": csrf_of(page.text), **data}, follow_redirects=False)


def new_institution(**overrides) -> dict:
    return {"name": "海淀区殡仪馆", "type": "funeral_home", "credit_code": credit_code(), "region_code": "110108",
            "address": "海淀区北清路1号", "contact_name": "", "contact_phone": "010-62000000", "licence_no": "",
            "status": "active", **overrides}


def fee_form(**overrides) -> dict:
    return {"name": "遗体火化", "category": "basic", "unit": "具", "price": "480.00", "pricing_basis": "government_set",
            "effective_from": TODAY.isoformat(), "effective_to": "", "description": "", **overrides}


def items_of(site_client, institution_id: str) -> list[dict]:
    return site_client.get(f"/api/v1/institutions/{institution_id}/service-items",
                           params={"history": "true"}).json()["data"]


def test_an_admin_adds_an_institution_finds_it_and_edits_it(admin_browser, site_client):
    added = post_form(admin_browser, "/workbench/institutions/new", "/workbench/institutions/new",
                      new_institution(name="海淀区殡仪馆"))
    assert added.status_code == 303, added.text
    page = admin_browser.get(added.headers["location"])
    assert "已新增机构" in page.text and "海淀区殡仪馆" in page.text and "海淀区（110108）" in page.text
    institution_id = added.headers["location"].split("/")[-1].split("?")[0]
    stored = site_client.get(f"/api/v1/institutions/{institution_id}").json()
    assert stored["contact_name"] is None and stored["status"] == "active"

    listed = admin_browser.get("/workbench/institutions", params={"q": "海淀", "type": "funeral_home",
                                                                  "region_code": "1101", "status": "active"})
    assert listed.status_code == 200 and "共 1 个机构" in listed.text
    assert f'href="/workbench/institutions/{institution_id}"' in listed.text
    refused = admin_browser.get("/workbench/institutions", params={"region_code": "海淀", "q": "海淀"})
    assert refused.status_code == 400 and 'id="region_code-error"' in refused.text and 'value="海淀"' in refused.text

    edit = f"/workbench/institutions/{institution_id}/edit"
    assert 'value="海淀区殡仪馆"' in admin_browser.get(edit).text
    changed = post_form(admin_browser, edit, edit, {"name": "海淀区第一殡仪馆", "address": "海淀区北清路1号",
                                                    "contact_name": "李主任", "contact_phone": "010-62000000",
                                                    "licence_no": "", "status": "active"})
    assert changed.status_code == 303 and changed.headers["location"].endswith("?done=updated")
    stored = site_client.get(f"/api/v1/institutions/{institution_id}").json()
    assert (stored["name"], stored["contact_name"]) == ("海淀区第一殡仪馆", "李主任")


def test_a_refused_institution_is_shown_again_with_the_registry_messages_and_nothing_is_written(admin_browser,
                                                                                               site_client):
    before = site_client.get("/api/v1/institutions").json()["count"]
    refused = post_form(admin_browser, "/workbench/institutions/new", "/workbench/institutions/new",
                        new_institution(credit_code="91110000600037341A", address=""))
    assert refused.status_code == 400
    assert 'id="credit_code-error"' in refused.text and "不是有效的统一社会信用代码" in refused.text
    assert 'id="address-error"' in refused.text and "请填写地址" in refused.text
    assert 'value="91110000600037341A"' in refused.text and 'value="海淀区殡仪馆"' in refused.text
    elsewhere = post_form(admin_browser, "/workbench/institutions/new", "/workbench/institutions/new",
                          new_institution(region_code="120101"))
    assert 'id="region_code-error"' in elsewhere.text and "不在本省" in elsewhere.text
    assert site_client.get("/api/v1/institutions").json()["count"] == before


def test_suspending_an_institution_is_confirmed_first(admin_browser, site_client, institution_id):
    edit = f"/workbench/institutions/{institution_id}/edit"
    current = site_client.get(f"/api/v1/institutions/{institution_id}").json()
    fields = {name: current[name] or "" for name in ("name", "address", "contact_name", "contact_phone", "licence_no")}
    unconfirmed = post_form(admin_browser, edit, edit, {**fields, "status": "suspended"})
    assert unconfirmed.status_code == 400 and 'id="confirm_status-error"' in unconfirmed.text
    assert "登记员不能再申报案件" in unconfirmed.text
    assert site_client.get(f"/api/v1/institutions/{institution_id}").json()["status"] == "active"

    confirmed = post_form(admin_browser, edit, edit, {**fields, "status": "suspended", "confirm_status": "yes"})
    assert confirmed.status_code == 303, confirmed.text
    assert site_client.get(f"/api/v1/institutions/{institution_id}").json()["status"] == "suspended"
    assert "暂停服务" in admin_browser.get(f"/workbench/institutions/{institution_id}").text


def test_a_fee_published_in_the_workbench_is_on_the_public_page_at_once(admin_browser, site_client, institution_id):
    assert "480.00" not in site_client.get(f"/institutions/{institution_id}").text  # cached by the portal now
    page = f"/workbench/institutions/{institution_id}"
    published = post_form(admin_browser, page, f"{page}/fees", fee_form())
    assert published.status_code == 303, published.text
    assert "已公布收费" in admin_browser.get(published.headers["location"]).text
    [item] = items_of(site_client, institution_id)
    assert (item["price_fen"], item["pricing_basis"]) == (48000, "government_set")
    public = site_client.get(f"/institutions/{institution_id}")
    assert "遗体火化" in public.text and "480.00 元" in public.text


def test_an_admin_ends_a_fee_and_sees_it_in_the_history(admin_browser, site_client, institution_id):
    page = f"/workbench/institutions/{institution_id}"
    assert post_form(admin_browser, page, f"{page}/fees", fee_form(effective_from="2024-01-01")).status_code == 303
    [item] = items_of(site_client, institution_id)
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    ended = post_form(admin_browser, page, f"{page}/fees/end", {"item_id": item["id"], "end_on": yesterday})
    assert ended.status_code == 303, ended.text
    assert items_of(site_client, institution_id)[0]["effective_to"] == yesterday
    assert "遗体火化" not in admin_browser.get(page).text.split('id="fee-new"')[0]
    history = admin_browser.get(page, params={"history": "true"})
    assert "已结束" in history.text and f"2024-01-01 至 {yesterday}" in history.text


def test_a_retroactive_fee_is_refused_with_the_registry_message_beside_its_date(admin_browser, site_client,
                                                                                institution_id):
    page = f"/workbench/institutions/{institution_id}"
    assert post_form(admin_browser, page, f"{page}/fees", fee_form(effective_from="2024-01-01")).status_code == 303
    last_week = (TODAY - timedelta(days=7)).isoformat()
    refused = post_form(admin_browser, page, f"{page}/fees", fee_form(price="520.00", effective_from=last_week))
    assert refused.status_code == 400
    error = re.search(r'id="effective_from-error">.*?</p>', refused.text, re.S).group(0)
    assert "已公布的收费不能追溯修改" in error
    assert 'value="520.00"' in refused.text and f'value="{last_week}"' in refused.text
    assert [item["price_fen"] for item in items_of(site_client, institution_id)] == [48000]


def test_a_price_with_three_decimals_is_refused_in_chinese_and_nothing_is_written(admin_browser, site_client,
                                                                                  institution_id):
    page = f"/workbench/institutions/{institution_id}"
    refused = post_form(admin_browser, page, f"{page}/fees", fee_form(price="480.005"))
    assert refused.status_code == 400
    assert 'id="price-error"' in refused.text and "最多保留两位小数" in refused.text
    assert 'value="480.005"' in refused.text and 'value="遗体火化"' in refused.text
    assert items_of(site_client, institution_id) == []


@pytest.mark.parametrize(("typed", "fen"), [("480.00", 48000), ("480", 48000), ("0.1", 10), ("19.99", 1999),
                                            ("1000000.00", 100_000_000)])
def test_yuan_are_turned_into_fen_exactly(typed, fen):
    assert fen_of(typed) == fen


@pytest.mark.parametrize(("typed", "refusal"), [("", "fee_price_required"), ("4,80", "fee_price_format"),
                                                ("-1", "fee_price_format"), ("1e3", "fee_price_format"),
                                                ("0.001", "fee_price_decimals")])
def test_a_price_that_is_no_amount_of_yuan_and_fen_is_refused(typed, refusal):
    with pytest.raises(PriceRefused) as refused:
        fen_of(typed)
    assert refused.value.args == (refusal,)


def test_the_disclosure_saved_in_the_workbench_is_on_the_public_page(admin_browser, site_client, institution_id):
    site_client.get(f"/institutions/{institution_id}")  # cached by the portal now
    page = f"/workbench/institutions/{institution_id}"
    saved = post_form(admin_browser, page, f"{page}/disclosure", {
        "opening_hours": "每日 8:00-17:00", "commitments": "24小时接运遗体\r\n\r\n明码标价，不强制消费\r\n",
        "supervising_authority": "北京市海淀区民政局", "complaint_phone": "010-12345678"})
    assert saved.status_code == 303, saved.text
    shown = admin_browser.get(saved.headers["location"]).text
    assert "已保存信息公开内容" in shown and "24小时接运遗体\n明码标价，不强制消费</textarea>" in shown
    public = site_client.get(f"/institutions/{institution_id}").text
    assert "<li>24小时接运遗体</li>" in public and "<li>明码标价，不强制消费</li>" in public
    assert "北京市海淀区民政局" in public and "tel:010-12345678" in public

    refused = post_form(admin_browser, page, f"{page}/disclosure", {"complaint_phone": "投诉电话", "commitments": "x" * 201})
    assert refused.status_code == 400
    assert 'id="complaint_phone-error"' in refused.text and 'id="commitments-error"' in refused.text
    assert "监督投诉电话的格式不正确" in refused.text and "服务承诺最多 200 个字符" in refused.text
    assert "北京市海淀区民政局" in site_client.get(f"/institutions/{institution_id}").text


@pytest.mark.parametrize("path", ["/workbench/institutions", "/workbench/institutions/new", "{id}", "{id}/edit"])
def test_a_registrar_cannot_open_the_admin_pages(staff_client, institution_id, path):
    registrar = staff_client("registrar", institution_id)
    answer = registrar.get(path.replace("{id}", f"/workbench/institutions/{institution_id}"))
    assert answer.status_code == 403 and "您的角色不能办理此事项" in answer.text


def test_a_registrar_cannot_post_a_fee(staff_client, site_client, institution_id):
    registrar = staff_client("registrar", institution_id)
    token = csrf_of(registrar.get("/workbench/").text)
    answer = registrar.post(f"/workbench/institutions/{institution_id}/fees", data={"csrf_token": token, **fee_form()})
    assert answer.status_code == 403 and items_of(site_client, institution_id) == []


def test_a_form_without_the_csrf_token_is_refused_and_nothing_is_written(admin_browser, site_client, institution_id):
    page = f"/workbench/institutions/{institution_id}"
    answer = admin_browser.post(f"{page}/fees", data=fee_form(), follow_redirects=False)
    assert answer.status_code == 403 and "此页面已过期" in answer.text
    forged = admin_browser.post("/workbench/institutions/new", data={"csrf_token": "0" * 64, **new_institution()})
    assert forged.status_code == 403
    assert items_of(site_client, institution_id) == []
    assert site_client.get("/api/v1/institutions").json()["count"] == 1


def test_an_unknown_institution_is_not_found(admin_browser):
    assert admin_browser.get("/workbench/institutions/00000000-0000-0000-0000-000000000000").status_code == 404
    assert admin_browser.get("/workbench/institutions/not-an-id/edit").status_code == 404
