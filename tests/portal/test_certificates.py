"""Verifying a cremation certificate on the portal, and the printable certificate: pages as a browser gets them."""
from datetime import date
from urllib.parse import urlsplit

from starlette.requests import Request

from portal.certificates import age_at_death, print_page
from registry.cremations import qr

VERIFY = "/certificates/verify"
HTML = {"Accept": "text/html"}


def _scan(site_client, qr_text: str):
    parts = urlsplit(qr_text)
    return site_client.get(f"{parts.path}?{parts.query}", headers=HTML)


def test_the_form_answers_valid_then_cancelled_without_personal_data(site_client, certified):
    number, code = certified.certificate["number"], certified.certificate["check_code"]
    empty = site_client.get(VERIFY, headers=HTML)
    assert empty.status_code == 200 and "证明编号" in empty.text and "查验码" in empty.text

    answer = site_client.get(VERIFY, params={"number": number, "check_code": code.lower()}, headers=HTML)
    assert answer.status_code == 200 and "有效" in answer.text and "示范火化殡仪馆" in answer.text
    assert certified.case["deceased_name"] not in answer.text
    assert certified.case["id_number"] not in answer.text

    cancelled = site_client.post(f"/api/v1/cases/{certified.case['id']}/certificates/cancel",
                                 json={"reason": "张三丰家属申请作废"}, headers=certified.registrar)
    assert cancelled.status_code == 200, cancelled.text
    answer = site_client.get(VERIFY, params={"number": number, "check_code": code}, headers=HTML)
    assert "已作废" in answer.text and "作废日期" in answer.text
    assert "张三丰" not in answer.text, "neither the name nor the cancel reason that names him"


def test_a_wrong_code_is_not_found_and_keeps_what_was_typed(site_client, certified):
    number = certified.certificate["number"]
    answer = site_client.get(VERIFY, params={"number": number, "check_code": "WRONG234"}, headers=HTML)
    assert answer.status_code == 200 and "未查到" in answer.text
    assert f'value="{number}"' in answer.text and 'value="WRONG234"' in answer.text


def test_an_empty_field_is_refused_in_place(site_client, certified):
    answer = site_client.get(VERIFY, params={"number": certified.certificate["number"], "check_code": ""},
                             headers=HTML)
    assert answer.status_code == 400
    assert "请输入查验码" in answer.text and 'aria-invalid="true"' in answer.text
    assert f'value="{certified.certificate["number"]}"' in answer.text
    assert "<title>错误：" in answer.text


def test_the_qr_lands_on_valid_and_a_tampered_one_on_forged(site, site_client, certified):
    qr_text = certified.certificate["qr_text"]
    landing = _scan(site_client, qr_text)
    assert landing.status_code == 200 and "有效" in landing.text and "电子签名验证通过" in landing.text

    claim = qr.parse(qr_text)
    forged_fields = claim.fields.replace(claim.issued_on.isoformat(), "2020-01-01")
    forged = site_client.get(VERIFY, params={"c": forged_fields, "s": claim.signature}, headers=HTML)
    assert "伪造" in forged.text and "电子签名验证通过" not in forged.text
    assert site.state.ctx.metrics.registry.get_sample_value(
        "fsp_certificate_verifications_total", {"outcome": "forged"}) == 1
    assert site.state.ctx.metrics.registry.get_sample_value(
        "fsp_portal_page_views_total", {"page": "certificate_verify"}) == 2


def test_home_and_nav_link_to_the_check(site_client):
    home = site_client.get("/", headers=HTML)
    assert home.text.count('href="/certificates/verify"') == 2


def test_the_print_page_shows_the_paper_certificate_and_its_qr(site, certified):
    request = Request({"type": "http", "method": "GET", "path": "/print", "root_path": "", "headers": [],
                       "query_string": b"", "app": site})
    printed = print_page(request, certificate=certified.certificate, case=certified.case, province_name="北京市")
    html = printed.body.decode()
    for shown in (certified.certificate["number"], certified.certificate["check_code"], certified.case["deceased_name"],
                  certified.case["id_number"], "示范火化殡仪馆", "北京市殡葬服务平台", "<svg", "@media print"):
        assert shown in html, shown
    assert age_at_death(date(1950, 6, 1), date(2026, 5, 31)) == 75 and age_at_death(date(1950, 6, 1), date(2026, 6, 1)) == 76


def test_too_many_wrong_checks_pause_the_form(site, site_client, certified):
    site.state.ctx.certificate_attempts.max_failures = 2
    for _ in range(2):
        site_client.get(VERIFY, params={"number": "110000-2026-999999", "check_code": "WRONG234"}, headers=HTML)
    paused = site_client.get(VERIFY, params={"number": certified.certificate["number"],
                                             "check_code": certified.certificate["check_code"]}, headers=HTML)
    assert paused.status_code == 429 and '<span class="verify-status">暂停查验</span>' in paused.text
