"""The SM2 key that signs certificates' QR codes: made once with the tenant's keys, never silently replaced."""
import pytest

from registry.security import crypto
from registry.security.keys import (
    CERTIFICATE_KEY,
    CERTIFICATE_PUBLIC_KEY,
    KeyMaterialError,
    ensure_keys,
    load_certificate_key,
)


def test_sm2_signatures_verify_only_for_the_exact_data_and_key():
    private, public = crypto.new_sm2_key()
    signature = crypto.sm2_sign(private, public, b"FSPC1|110000")
    assert crypto.sm2_verify(public, b"FSPC1|110000", signature)
    assert not crypto.sm2_verify(public, b"FSPC1|110001", signature)
    assert not crypto.sm2_verify(crypto.new_sm2_key()[1], b"FSPC1|110000", signature)
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert not crypto.sm2_verify(public, b"FSPC1|110000", flipped)
    assert not crypto.sm2_verify(public, b"FSPC1|110000", "")
    assert not crypto.sm2_verify(public, b"FSPC1|110000", "A" * 86)  # r and s out of range


def test_signatures_interoperate_with_gmssl_sm3_with_sm2():
    # another implementation of the standard's SM3-with-SM2 accepts ours: verifiers elsewhere can use their own
    import base64

    from gmssl import sm2

    private, public = crypto.new_sm2_key()
    signature = crypto.sm2_sign(private, public, b"certificate")
    theirs = sm2.CryptSM2(private_key=None, public_key=public[2:])
    theirs.public_key = public[2:]
    assert theirs.verify_with_sm3(base64.urlsafe_b64decode(signature + "==").hex(), b"certificate")


def test_the_key_is_made_once_and_loads(tmp_path):
    assert ensure_keys(tmp_path)[CERTIFICATE_KEY] == "created"
    first = (tmp_path / CERTIFICATE_KEY).read_bytes()
    assert ensure_keys(tmp_path)[CERTIFICATE_KEY] == "unchanged"
    assert (tmp_path / CERTIFICATE_KEY).read_bytes() == first
    key = load_certificate_key(tmp_path)
    assert key.public_hex.startswith("04") and len(key.key_id) == 16
    assert key.private_hex not in repr(key)


def test_a_lost_private_key_is_never_replaced(tmp_path):
    ensure_keys(tmp_path)
    (tmp_path / CERTIFICATE_KEY).unlink()
    with pytest.raises(KeyMaterialError, match="restore"):
        ensure_keys(tmp_path)
    assert not (tmp_path / CERTIFICATE_KEY).exists()


def test_both_halves_lost_after_certificates_were_issued_is_an_error(tmp_path):
    ensure_keys(tmp_path)
    (tmp_path / CERTIFICATE_KEY).unlink()
    (tmp_path / CERTIFICATE_PUBLIC_KEY).unlink()
    with pytest.raises(KeyMaterialError, match="issued certificates"):
        ensure_keys(tmp_path, certificates_issued=lambda: True)
    assert ensure_keys(tmp_path, certificates_issued=lambda: False)[CERTIFICATE_KEY] == "created"


def test_halves_of_two_pairs_do_not_load(tmp_path):
    ensure_keys(tmp_path)
    (tmp_path / CERTIFICATE_PUBLIC_KEY).write_text(crypto.new_sm2_key()[1])
    with pytest.raises(KeyMaterialError, match="not one SM2 key pair"):
        load_certificate_key(tmp_path)
