"""`fsp certificate verify`: a certificate's QR code checked offline, with only the tenant's public key."""
import json
from datetime import date

from provisioning_cli.targets.local import LocalTarget
from registry import signed_documents
from registry.cremations import qr
from registry.security import crypto
from registry.security.keys import load_certificate_key
from tenants import load_catalog


def _signed_url(home, slug="beijing") -> str:
    settings = LocalTarget(home, load_catalog()).settings(load_catalog().resolve(slug))
    c, s = qr.sign(load_certificate_key(settings.keys_dir), tenant_code=settings.tenant_code,
                   number="110000-2026-000042", check_code="K7M2QX9A", issued_on=date(2026, 11, 30))
    return qr.url("https://fsp.example/beijing", c, s)


def test_a_genuine_qr_verifies_with_the_tenants_key(fsp, fsp_json, home):
    fsp("up", "beijing")
    url = _signed_url(home)

    result = fsp("certificate", "verify", url, "--tenant", "beijing")
    assert "签名有效" in result.stdout and "110000-2026-000042" in result.stdout
    report = fsp_json("certificate", "verify", url, "--tenant", "beijing")
    assert report["signature_valid"] is True
    assert (report["number"], report["check_code"], report["issued_on"]) == ("110000-2026-000042", "K7M2QX9A",
                                                                            "2026-11-30")
    claim = qr.parse(url)
    compact = f"{claim.fields}|{claim.signature}"  # the QR's compact form is accepted too
    assert fsp_json("certificate", "verify", compact, "--tenant", "beijing")["signature_valid"] is True


def test_a_tampered_qr_fails_with_exit_1(fsp, home):
    fsp("up", "beijing")
    tampered = _signed_url(home).replace("000042", "000043")
    result = fsp("certificate", "verify", tampered, "--tenant", "beijing", ok=False)
    assert "签名无效" in result.stdout


def test_the_published_key_file_is_enough_and_another_tenants_key_fails(fsp, fsp_json, home, tmp_path):
    fsp("up", "beijing", "tianjin")
    url = _signed_url(home)
    settings = LocalTarget(home, load_catalog()).settings(load_catalog().resolve("beijing"))
    key = load_certificate_key(settings.keys_dir)
    published = tmp_path / "beijing-key.json"  # what GET /.well-known/fsp-certificate-key answers
    published.write_text(json.dumps({"algorithm": "SM2-with-SM3", "public_key": key.public_hex,
                                     "key_id": key.key_id, "tenant_code": "110000"}))
    assert fsp_json("certificate", "verify", url, "--public-key", str(published))["signature_valid"] is True

    stranger = tmp_path / "stranger.pub"
    stranger.write_text(crypto.new_sm2_key()[1])
    fsp("certificate", "verify", url, "--public-key", str(stranger), ok=False)
    fsp("certificate", "verify", url, "--tenant", "tianjin", ok=False)


def test_unreadable_text_and_missing_key_choice_are_clear_errors(fsp, home, tmp_path):
    fsp("up", "beijing")
    result = fsp("certificate", "verify", "hello", "--tenant", "beijing", ok=False)
    assert "not a certificate QR code" in result.stderr
    result = fsp("certificate", "verify", _signed_url(home), ok=False)
    assert "exactly one of --public-key" in result.stderr


def test_a_transport_permit_of_another_province_verifies_with_its_key(fsp, fsp_json, home):
    fsp("up", "beijing")
    settings = LocalTarget(home, load_catalog()).settings(load_catalog().resolve("beijing"))
    c, s = signed_documents.sign(signed_documents.PERMIT, load_certificate_key(settings.keys_dir),
                                 tenant_code="110000", number="110000-YZ-2026-000001", check_code="K7M2QX9A",
                                 issued_on=date(2026, 11, 30),
                                 extra={"to_region": "310101", "planned_on": "2026-12-02", "vehicle_plate": "京A12345"})
    url = signed_documents.url(signed_documents.PERMIT, "https://fsp.example/beijing", c, s)
    report = fsp_json("certificate", "verify", url, "--tenant", "beijing")
    assert (report["signature_valid"], report["kind"], report["vehicle_plate"]) == (True, "permit", "京A12345")
    assert "车牌号 京A12345" in fsp("certificate", "verify", url, "--tenant", "beijing").stdout
    fsp("certificate", "verify", url.replace("310101", "320102"), "--tenant", "beijing", ok=False)
