"""The field key ring: ciphertexts name their version, the old format reads as version 1, a new version written
to the keys directory is used by a ring already loaded (no restart)."""
import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from registry.security import crypto, field_keys
from registry.security.keys import ensure_keys, load_keys


@pytest.fixture
def keys_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(field_keys, "REFRESH_SECONDS", 0.0)
    ensure_keys(tmp_path / "keys")
    return tmp_path / "keys"


def test_the_format_before_rotation_reads_as_version_1(keys_dir):
    key = (keys_dir / "field-sm4.key").read_bytes()
    old = crypto.sm4_gcm_encrypt(key, "13800001111", context=b"cases.informant_phone")  # as written before
    assert old.startswith("sm4gcm1:") and not old.startswith("sm4gcm1:v")
    ring = field_keys.FieldKeyRing.load(keys_dir)
    assert crypto.ciphertext_version(old) == 1 and ring.decrypt(old, context=b"cases.informant_phone") == "13800001111"


def test_a_loaded_ring_writes_with_a_new_version_and_reads_both(keys_dir):
    keys = load_keys(keys_dir)  # what a running registry holds
    ring = keys.field_ring
    old_text, old_blob = ring.encrypt("甲", context=b"f"), ring.seal(b"file", context=b"a")

    assert field_keys.add_version(keys_dir) == 2
    new_text, new_blob = ring.encrypt("乙", context=b"f"), ring.seal(b"file2", context=b"a")
    assert new_text.startswith("sm4gcm1:v2:") and new_blob.startswith(crypto.SEAL_HEADER)
    assert keys.field_key == (keys_dir / "field-sm4.v2.key").read_bytes()
    assert [ring.decrypt(t, context=b"f") for t in (old_text, new_text)] == ["甲", "乙"]
    assert [ring.open(b, context=b"a") for b in (old_blob, new_blob)] == [b"file", b"file2"]
    assert [ring.sealed_version(b, context=b"a") for b in (old_blob, new_blob)] == [1, 2]
    with pytest.raises(crypto.DecryptionError):
        ring.decrypt(new_text, context=b"other field")


def test_a_version_1_blob_whose_nonce_looks_like_a_header_still_opens(keys_dir):
    ring = field_keys.FieldKeyRing.load(keys_dir)
    field_keys.add_version(keys_dir)
    key = (keys_dir / "field-sm4.key").read_bytes()
    nonce = crypto.SEAL_HEADER + (2).to_bytes(2, "big") + os.urandom(6)  # an unlucky random nonce naming version 2
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(b"a")
    blob = nonce + encryptor.update(b"plain") + encryptor.finalize() + encryptor.tag
    assert ring.open(blob, context=b"a") == b"plain" and ring.sealed_version(blob, context=b"a") == 1


def test_a_version_missing_from_the_ring_is_a_decryption_error(keys_dir):
    ring = field_keys.FieldKeyRing.load(keys_dir)
    foreign = crypto.sm4_gcm_encrypt(crypto.new_sm4_key(), "x", context=b"f", version=9)
    with pytest.raises(crypto.DecryptionError, match="version 9"):
        ring.decrypt(foreign, context=b"f")
