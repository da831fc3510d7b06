"""A citizen checks a cremation certificate in a real browser: by number and check code, and by its QR code decoded
from a screenshot of the printed page (as a phone camera would) and opened. Pages are scanned by axe-core and kept
as screenshots under build/screenshots/, like test_browser.py's."""
import io
from collections.abc import Iterator

import httpx
import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from starlette.requests import Request

from browsing import WIDTHS, keep_and_check
from portal.certificates import print_page
from registry.cremations import qr

PRINT_PATH = "/beijing/print-test"  # served by the browser itself from the page print_page renders


@pytest.fixture(scope="module")
def certified(served, certifier):
    with httpx.Client(base_url=served.url, timeout=30) as client:
        return certifier(client, served.headers_for, prefix="/beijing", name="欧阳明远")


def _printed(certified) -> str:
    request = Request({"type": "http", "method": "GET", "path": PRINT_PATH, "root_path": "", "headers": [],
                       "query_string": b""})
    return print_page(request, certificate=certified.certificate, case=certified.case,
                      province_name="北京市").body.decode()


@pytest.fixture
def print_page_url(page: Page, served, certified) -> Iterator[str]:
    html = _printed(certified)
    url = served.url + PRINT_PATH
    page.route(url, lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html))
    yield url


def _decode_qr(page: Page) -> str:
    shot = page.locator(".certificate-qr").screenshot()
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))
    assert [code.format for code in found] == [zxingcpp.BarcodeFormat.QRCode], found
    return found[0].text


def test_a_citizen_verifies_by_number_and_check_code(page: Page, served, certified):
    page.goto(served.url + "/beijing/")
    page.get_by_role("navigation").get_by_role("link", name="火化证明查验").click()
    expect(page.locator("h1")).to_have_text("火化证明查验")

    page.get_by_label("证明编号").fill(certified.certificate["number"])
    page.get_by_label("查验码").fill("WRONG234")
    page.get_by_role("button", name="查验").click()
    expect(page.locator(".verify-status")).to_have_text("未查到")
    expect(page.get_by_label("证明编号")).to_have_value(certified.certificate["number"])  # kept as typed

    page.get_by_label("查验码").fill(certified.certificate["check_code"].lower())
    page.get_by_role("button", name="查验").click()
    expect(page.locator(".verify-status")).to_have_text("有效")
    expect(page.locator(".summary-list")).to_contain_text("示范火化殡仪馆")
    expect(page.locator("main")).not_to_contain_text("欧阳明远")


def test_a_citizen_scans_the_printed_qr_code(page: Page, served, certified, print_page_url):
    page.goto(print_page_url)
    expect(page.locator(".certificate-number")).to_have_text(certified.certificate["number"])
    expect(page.locator("main")).to_contain_text("欧阳明远")  # the paper shows the person; the check never does
    decoded = _decode_qr(page)
    assert decoded == certified.certificate["qr_text"]
    assert decoded.startswith(served.url + "/beijing/certificates/verify?")

    page.goto(decoded)
    expect(page.locator(".verify-status")).to_have_text("有效")
    expect(page.locator("main")).to_contain_text("电子签名验证通过")
    expect(page.locator("main")).not_to_contain_text("欧阳明远")

    cancelled = httpx.post(f"{served.url}/beijing/api/v1/cases/{certified.case['id']}/certificates/cancel",
                           json={"reason": "登记有误"}, headers=certified.registrar, timeout=30)
    assert cancelled.status_code == 200, cancelled.text
    page.goto(decoded)
    expect(page.locator(".verify-status")).to_have_text("已作废")

    claim = qr.parse(decoded)
    page.goto(qr.url(served.url + "/beijing", claim.fields.replace(claim.check_code, "AAAAAAAA"), claim.signature))
    expect(page.locator(".verify-status")).to_have_text("无效（二维码可能被伪造或篡改）")


PAGES = {
    "certificate-verify": "/beijing/certificates/verify",
    "certificate-verify-error": "/beijing/certificates/verify?number=110000-2026-000001&check_code=",
    "certificate-verify-not-found": "/beijing/certificates/verify?number=110000-2026-999999&check_code=AAAAAAAA",
    "certificate-verify-forged": "/beijing/certificates/verify?c=FSPC1%7Cx&s=y",
    "certificate-print": PRINT_PATH,
}


@pytest.mark.parametrize("name", PAGES)
def test_each_certificate_page_is_accessible_and_fits_a_phone(browser: Browser, served, certified, name: str):
    html = _printed(certified)
    for device, width in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": 800}, locale="zh-CN")
        page = context.new_page()
        try:
            page.route(served.url + PRINT_PATH, lambda route: route.fulfill(
                status=200, content_type="text/html; charset=utf-8", body=html))
            page.goto(served.url + PAGES[name])
            keep_and_check(page, f"{name}-{device}", width)
        finally:
            context.close()
