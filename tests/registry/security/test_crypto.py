"""SM4-GCM, HMAC-SM3 and masking behave as personal-data protection needs."""
import os

import pytest

from registry.security import crypto
from registry.security.keys import KeyMaterialError, ensure_keys, load_keys
from registry.security.masking import mask_id_number, mask_phone


def test_sm3_matches_the_standard_test_vector():
    # GB/T 32905-2016 appendix A, example 1: "abc"
    assert crypto.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_sm4_gcm_round_trip_is_randomised():
    key = crypto.new_sm4_key()
    first = crypto.sm4_gcm_encrypt(key, "11010519491231002X", context=b"id")
    second = crypto.sm4_gcm_encrypt(key, "11010519491231002X", context=b"id")
    assert first != second
    assert crypto.sm4_gcm_decrypt(key, first, context=b"id") == "11010519491231002X"


@pytest.mark.parametrize("attack", ["tamper", "other_field", "other_key"])
def test_sm4_gcm_refuses_altered_or_moved_ciphertext(attack):
    key = crypto.new_sm4_key()
    token = crypto.sm4_gcm_encrypt(key, "secret", context=b"cases.id_number")
    if attack == "tamper":
        raw = bytearray(token.encode())
        raw[-5] = ord("A") if raw[-5] != ord("A") else ord("B")
        token, context, use_key = raw.decode(), b"cases.id_number", key
    elif attack == "other_field":
        context, use_key = b"cases.informant_phone", key
    else:
        context, use_key = b"cases.id_number", crypto.new_sm4_key()
    with pytest.raises(crypto.DecryptionError):
        crypto.sm4_gcm_decrypt(use_key, token, context=context)


def test_blind_index_is_keyed_and_deterministic():
    key = crypto.new_index_key()
    assert crypto.hmac_sm3(key, "A") == crypto.hmac_sm3(key, "A")
    assert crypto.hmac_sm3(key, "A") != crypto.hmac_sm3(crypto.new_index_key(), "A")


def test_masks():
    assert mask_id_number("11010519491231002X") == "110105************"
    assert mask_id_number("E12345678") == "*******78" and mask_id_number("H123456") == "*******"
    assert mask_phone("13812345678") == "138****5678"


def test_keys_are_private_files_created_once(tmp_path):
    assert set(ensure_keys(tmp_path / "k").values()) == {"created"}
    assert set(ensure_keys(tmp_path / "k").values()) == {"unchanged"}
    for path in (tmp_path / "k").iterdir():
        assert path.stat().st_mode & 0o077 == 0, path
    keys = load_keys(tmp_path / "k")
    assert len(keys.field_key) == 16 and "b'" not in repr(keys), "key bytes never appear in logs"
    with pytest.raises(KeyMaterialError, match="missing"):
        load_keys(tmp_path / "nowhere")


def test_sm4_gcm_streams_round_trip_and_refuse_tampering_truncation_and_another_key():
    import io

    key, data = crypto.new_sm4_key(), os.urandom(3 * (1 << 20) + 17)  # several chunks and a ragged end
    sealed = io.BytesIO()
    crypto.sm4_gcm_encrypt_stream(key, io.BytesIO(data), sealed, context=b"backup")
    blob = sealed.getvalue()

    def opened(blob: bytes, key: bytes = key, context: bytes = b"backup") -> bytes:
        out = io.BytesIO()
        crypto.sm4_gcm_decrypt_stream(key, io.BytesIO(blob), len(blob), out, context=context)
        return out.getvalue()

    assert opened(blob) == data and data[:64] not in blob
    flipped = bytearray(blob)
    flipped[len(blob) // 2] ^= 1
    for bad in (lambda: opened(bytes(flipped)), lambda: opened(blob[:-1]), lambda: opened(blob[:20]),
                lambda: opened(blob, key=crypto.new_sm4_key()), lambda: opened(blob, context=b"other")):
        with pytest.raises(crypto.DecryptionError):
            bad()


def test_hmac_sm3_is_the_standard_hmac_for_each_key_when_keys_alternate():
    # the keyed state is made once per key and copied per value: values and keys must never mix
    import hashlib
    import hmac

    first, second = crypto.new_index_key(), crypto.new_index_key()
    for key, value in [(first, "11010519491231002X"), (second, "11010519491231002X"), (first, "甲"), (second, "")]:
        assert crypto.hmac_sm3(key, value) == hmac.new(key, value.encode(), lambda: hashlib.new("sm3")).hexdigest()


def test_sm4_gcm_keys_alternating_each_open_only_their_own():
    first, second = crypto.new_sm4_key(), crypto.new_sm4_key()
    tokens = [(key, crypto.sm4_gcm_encrypt(key, f"号{n}", context=b"f")) for n, key in enumerate([first, second] * 2)]
    for n, (key, token) in enumerate(tokens):
        assert crypto.sm4_gcm_decrypt(key, token, context=b"f") == f"号{n}"
        with pytest.raises(crypto.DecryptionError):
            crypto.sm4_gcm_decrypt(second if key is first else first, token, context=b"f")
