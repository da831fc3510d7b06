"""SM2 signing behind the one crypto module: the standard's example, nonces never from `random`, signatures that
say their algorithm, and Ed25519 signatures from before the switch still accepted by a key set holding both."""
import base64
import random

import pytest

from registry.security import crypto
from registry.security.algorithms import PROTECTIONS, protections

# GB/T 32918.5-2017 / GM/T 0003.5 example on the recommended curve: key d, message "message digest", default ID
# "1234567812345678", nonce k, and the resulting signature (r, s)
_D = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"
_PUBLIC = ("04" "09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020"
           "ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13")
_R = "f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3"
_S = "b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa"


def _b64url(hex_text: str) -> str:
    return base64.urlsafe_b64encode(bytes.fromhex(hex_text)).decode().rstrip("=")


def test_the_standards_example_signature_verifies_and_a_changed_one_does_not():
    assert crypto.sm2_verify(_PUBLIC, b"message digest", _b64url(_R + _S))
    assert not crypto.sm2_verify(_PUBLIC, b"message digest!", _b64url(_R + _S))
    assert not crypto.sm2_verify(_PUBLIC, b"message digest", _b64url(_R + _S[:-1] + "b"))


def test_the_signed_digest_is_the_standards_z_and_e():
    # the same example's Z (of the public key and the default ID) and e = SM3(Z || message)
    assert crypto._sm2_z(_PUBLIC).hex() == "b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3"
    assert crypto._sm2_digest(_PUBLIC, b"message digest").hex() == (
        "f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640")


def test_large_messages_are_hashed_by_openssl_not_by_gmssls_pure_python_sm3(monkeypatch):
    # gmssl's SM3 takes about 4 s per MiB: an exchange batch of 1 MiB took 8 s to sign and verify
    from gmssl import sm3

    def refused(*args, **kwargs):
        raise AssertionError("gmssl's SM3 was used")

    monkeypatch.setattr(sm3, "sm3_hash", refused)
    private, public = crypto.new_sm2_key()
    batch = bytes(random.Random(7).randbytes(1 << 20))
    signature = crypto.sm2_sign(private, public, batch)
    assert crypto.sm2_verify(public, batch, signature)
    assert not crypto.sm2_verify(public, batch + b"\n", signature)


def test_sm2_nonces_do_not_come_from_the_random_module():
    # gmssl draws its own nonce with random.choice: seeded alike, it would sign alike (and give the key away)
    signer = crypto.Signer(crypto.SM2, _D, _PUBLIC)
    random.seed(7)
    first = signer.sign(b"batch")
    random.seed(7)
    second = signer.sign(b"batch")
    assert first != second
    assert crypto.verify_signature([signer.public_key], b"batch", first)
    assert crypto.verify_signature([signer.public_key], b"batch", second)


def test_an_sm2_signature_says_its_algorithm_and_is_64_bytes_raw():
    private, public = crypto.new_signer_files(crypto.SM2)
    signer = crypto.signer_from_files(private, public)
    signature = signer.sign(b"body")
    assert signature.startswith("sm2:") and len(base64.urlsafe_b64decode(signature[4:] + "==")) == 64
    assert signer.algorithm == "sm2" and "sm2:" not in repr(signer) and private.strip()[4:] not in repr(signer)


def test_a_key_set_accepts_old_ed25519_and_new_sm2_signatures_during_the_switch():
    old = crypto.signer_from_files(*crypto.new_signer_files(crypto.ED25519))
    new = crypto.signer_from_files(*crypto.new_signer_files(crypto.SM2))
    stranger = crypto.signer_from_files(*crypto.new_signer_files(crypto.SM2))
    both = crypto.parse_public_keys(new.public_key.text() + old.public_key.text())
    assert [key.algorithm for key in both] == ["ed25519", "sm2"]
    body = b'{"events":[]}'
    assert crypto.verify_signature(both, body, old.sign(body)) and crypto.verify_signature(both, body, new.sign(body))
    assert not crypto.verify_signature(both, body, stranger.sign(body))
    assert not crypto.verify_signature(both, body + b" ", new.sign(body))
    assert not crypto.verify_signature(both, body, None) and not crypto.verify_signature(both, body, "sm2:")
    only_new = crypto.parse_public_keys(new.public_key.text())
    assert not crypto.verify_signature(only_new, body, old.sign(body))  # retired: no longer accepted


def test_a_key_set_with_anything_but_keys_is_refused():
    with pytest.raises(ValueError, match="key set"):
        crypto.parse_public_keys("sm2:not-a-key\n")


def test_mismatched_halves_are_not_a_signer():
    _, other_public = crypto.new_signer_files(crypto.SM2)
    private, _ = crypto.new_signer_files(crypto.SM2)
    with pytest.raises(ValueError, match="not one pair"):
        crypto.signer_from_files(private, other_public)


def test_the_algorithm_table_names_a_national_algorithm_for_data_signatures_and_the_audit_chain():
    by_where = {p.where: p for p in PROTECTIONS}
    assert by_where["registry.security.field_keys"].algorithm == "SM4-GCM"
    assert by_where["registry.audit.service"].algorithm == "SM3"
    assert by_where["registry.context.TenantContext.blind_index"].algorithm == "HMAC-SM3"
    signed = [p for p in PROTECTIONS if "签名" in p.protects and "令牌" not in p.protects]
    assert len(signed) == 3 and all(p.algorithm == "SM2 with SM3" for p in signed)
    assert all(row["standard"] and row["where"] for row in protections())
