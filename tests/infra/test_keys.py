"""Key material: created once, never replaced, repaired when its modes drift."""
import pytest

from infra.ensure.keys import EXCHANGE_PRIVATE_KEY, EXCHANGE_PUBLIC_KEY, ensure_tenant_keys, exchange_public_key
from registry.security import crypto
from registry.security.keys import (
    AUDIT_KEY,
    AUDIT_KEY_ID,
    CERTIFICATE_KEY,
    CERTIFICATE_PUBLIC_KEY,
    FIELD_KEY,
    INDEX_KEY,
    TOKEN_KEY,
    KeyMaterialError,
    load_keys,
)

EXCHANGE_SM2_KEY, EXCHANGE_SM2_PUBLIC_KEY = "exchange-signing.v1.key", "exchange-signing.v1.pub"
ALL_KEYS = {FIELD_KEY, INDEX_KEY, TOKEN_KEY, AUDIT_KEY, AUDIT_KEY_ID, EXCHANGE_SM2_KEY, EXCHANGE_SM2_PUBLIC_KEY,
            CERTIFICATE_KEY, CERTIFICATE_PUBLIC_KEY}


def _contents(keys_dir):
    return {p.name: p.read_bytes() for p in keys_dir.iterdir()}


def test_created_then_unchanged_with_private_modes(tmp_path):
    keys_dir = tmp_path / "keys"

    assert ensure_tenant_keys(keys_dir) == "created"
    first = _contents(keys_dir)
    assert set(first) == ALL_KEYS
    assert keys_dir.stat().st_mode & 0o777 == 0o700
    assert {p.name: p.stat().st_mode & 0o777 for p in keys_dir.iterdir()} == dict.fromkeys(ALL_KEYS, 0o600)
    load_keys(keys_dir)  # what the registry reads

    assert ensure_tenant_keys(keys_dir) == "unchanged"
    assert _contents(keys_dir) == first


def test_loosened_mode_is_repaired_without_new_keys(tmp_path):
    keys_dir = tmp_path / "keys"
    ensure_tenant_keys(keys_dir)
    before = _contents(keys_dir)
    (keys_dir / TOKEN_KEY).chmod(0o644)

    assert ensure_tenant_keys(keys_dir) == "updated"
    assert (keys_dir / TOKEN_KEY).stat().st_mode & 0o777 == 0o600
    assert _contents(keys_dir) == before


def test_a_missing_registry_key_is_made_and_the_others_kept(tmp_path):
    keys_dir = tmp_path / "keys"
    ensure_tenant_keys(keys_dir)
    before = _contents(keys_dir)
    (keys_dir / INDEX_KEY).unlink()

    assert ensure_tenant_keys(keys_dir) == "updated"
    after = _contents(keys_dir)
    assert after[INDEX_KEY] != before[INDEX_KEY]
    assert {k: v for k, v in after.items() if k != INDEX_KEY} == {k: v for k, v in before.items() if k != INDEX_KEY}


def test_a_lost_audit_key_is_refused_not_made_anew(tmp_path):
    keys_dir = tmp_path / "keys"
    ensure_tenant_keys(keys_dir)
    (keys_dir / AUDIT_KEY).unlink()  # its id stays: entries sealed with it would no longer verify

    with pytest.raises(KeyMaterialError, match="restore it"):
        ensure_tenant_keys(keys_dir)
    assert not (keys_dir / AUDIT_KEY).exists()


def test_half_an_exchange_pair_is_refused_not_rotated(tmp_path):
    keys_dir = tmp_path / "keys"
    ensure_tenant_keys(keys_dir)
    public = (keys_dir / EXCHANGE_SM2_PUBLIC_KEY).read_bytes()
    (keys_dir / EXCHANGE_SM2_KEY).unlink()

    with pytest.raises(KeyMaterialError, match="half an exchange key pair"):
        ensure_tenant_keys(keys_dir)
    assert (keys_dir / EXCHANGE_SM2_PUBLIC_KEY).read_bytes() == public and not (keys_dir / EXCHANGE_SM2_KEY).exists()


def test_half_an_ed25519_pair_from_before_the_switch_is_refused(tmp_path):
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir(mode=0o700)
    private_pem, _ = crypto.new_exchange_signing_key()
    (keys_dir / EXCHANGE_PRIVATE_KEY).write_bytes(private_pem)

    with pytest.raises(KeyMaterialError, match="half an exchange key pair"):
        ensure_tenant_keys(keys_dir)
    assert not (keys_dir / EXCHANGE_PUBLIC_KEY).exists() and not (keys_dir / EXCHANGE_SM2_KEY).exists()


def test_a_tenant_provisioned_before_the_switch_keeps_its_ed25519_pair(tmp_path):
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir(mode=0o700)
    private_pem, public_pem = crypto.new_exchange_signing_key()
    (keys_dir / EXCHANGE_PRIVATE_KEY).write_bytes(private_pem)
    (keys_dir / EXCHANGE_PUBLIC_KEY).write_bytes(public_pem)

    ensure_tenant_keys(keys_dir)
    assert exchange_public_key(keys_dir) == public_pem and not (keys_dir / EXCHANGE_SM2_KEY).exists()


def test_a_new_tenants_exchange_public_key_is_sm2(tmp_path):
    keys_dir = tmp_path / "keys"
    ensure_tenant_keys(keys_dir)

    published = exchange_public_key(keys_dir)

    assert [key.algorithm for key in crypto.parse_public_keys(published.decode())] == ["sm2"]
    assert b"PRIVATE" not in published and published.startswith(b"sm2:04")
    with pytest.raises(KeyMaterialError):
        exchange_public_key(tmp_path / "elsewhere")


def test_provinces_converged_at_once_share_one_fleet_person_match_key(tmp_path, monkeypatch):
    import threading

    from infra.ensure import keys as ensure_keys_module
    from registry.security.keys import PERSON_MATCH_KEY

    fleet, first, second = tmp_path / "fleet", tmp_path / "first", tmp_path / "second"
    for keys_dir in (first, second):
        ensure_tenant_keys(keys_dir)  # their own keys already there: only the fleet's key is made below
    first_inside, second_done = threading.Event(), threading.Event()
    made = iter([b"A" * 32, b"B" * 32])

    def new_index_key() -> bytes:
        key = next(made)
        if key.startswith(b"A"):  # the first province has found no fleet key, and waits while the second makes one
            first_inside.set()
            assert second_done.wait(10)
        return key

    monkeypatch.setattr(ensure_keys_module.crypto, "new_index_key", new_index_key)
    worker = threading.Thread(target=ensure_tenant_keys, args=(first,), kwargs={"fleet_keys": fleet})
    worker.start()
    assert first_inside.wait(10)
    ensure_tenant_keys(second, fleet_keys=fleet)
    second_done.set()
    worker.join(10)

    shared = (fleet / PERSON_MATCH_KEY).read_bytes()
    assert shared == b"B" * 32  # the first key made stays the fleet's
    assert (first / PERSON_MATCH_KEY).read_bytes() == (second / PERSON_MATCH_KEY).read_bytes() == shared
