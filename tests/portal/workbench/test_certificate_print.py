"""Printing a cremation certificate from the workbench: the registry's certificate and case, the signed QR code,
for those who may read the case only."""
import uuid


def test_a_registrar_prints_the_certificate_with_its_signed_qr(site, site_client, staff_client, certified):
    institution = certified.case["institution_id"]
    client = staff_client("registrar", institution)
    answer = client.get(f"/workbench/certificates/{certified.certificate['id']}/print")
    assert answer.status_code == 200, answer.text
    assert certified.certificate["number"] in answer.text and certified.certificate["check_code"] in answer.text
    assert certified.case["deceased_name"] in answer.text
    # the QR is drawn inline (SM2 signs with a fresh nonce, so no two drawings are the same bytes; what it encodes
    # is decoded and followed in tests/portal/test_browser_certificates.py); the registry signs it for this address
    assert answer.text.count('class="segno"') == 1
    as_read = client.get(f"/api/v1/certificates/{certified.certificate['id']}", headers=certified.registrar).json()
    assert as_read["qr_text"].startswith("https://testserver/certificates/verify?c=FSPC1")
    assert answer.headers["cache-control"] == "no-store"


def test_a_registrar_of_another_institution_or_an_unknown_certificate_gets_not_found(site, site_client, staff_client,
                                                                                     certified, institution_id):
    other = staff_client("registrar", institution_id, username="other-registrar")
    assert other.get(f"/workbench/certificates/{certified.certificate['id']}/print").status_code == 404
    assert other.get(f"/workbench/certificates/{uuid.uuid4()}/print").status_code == 404
    assert other.get("/workbench/certificates/not-a-uuid/print").status_code == 404
