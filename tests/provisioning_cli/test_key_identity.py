"""Keys with identity: a lost or swapped key the tenant's data depends on is refused, never silently made anew."""
import json

import pytest

from registry.app import create_app
from registry.security import crypto
from registry.security.key_ledger import KEY_IDS, recorded_in_database
from registry.security.keys import (
    AUDIT_KEY,
    CERTIFICATE_KEY,
    FIELD_KEY,
    INDEX_KEY,
    PERSON_MATCH_KEY,
    TOKEN_KEY,
    KeyMaterialError,
)

DATA_KEYS = (FIELD_KEY, INDEX_KEY, AUDIT_KEY)


def _keys_dir(tenant):
    return tenant.home.tenant("beijing").keys


def _settings(tenant):
    return tenant.settings(tenant.catalog.resolve("beijing"))


def test_every_key_id_is_recorded_beside_the_keys_in_the_state_and_in_the_database(tenant, fsp_json):
    keys = _keys_dir(tenant)
    ids = {name: crypto.key_id((keys / name).read_bytes()) for name in (FIELD_KEY, INDEX_KEY, TOKEN_KEY, AUDIT_KEY,
                                                                         CERTIFICATE_KEY)}
    with tenant.engine(tenant.catalog.resolve("beijing")) as engine:
        in_database = recorded_in_database(engine)
    beside = json.loads((keys / KEY_IDS).read_text())
    state = json.loads(tenant.home.tenant("beijing").state.read_text())
    for recorded in (in_database, beside, state["keys"]):
        assert {name: recorded[name] for name in ids} == ids
    assert [row["keys"] for row in fsp_json("status", "beijing")] == ["ok"]


@pytest.mark.parametrize("key", DATA_KEYS)
def test_a_lost_key_the_data_depends_on_is_refused_by_up_status_and_startup(tenant, write_cases, fsp, fsp_json, key):
    write_cases(1)
    path = _keys_dir(tenant) / key
    path.unlink()

    refused = fsp("up", "beijing", ok=False).stderr
    assert "missing" in refused and "fsp restore" in refused and not path.exists()
    row = fsp_json("status", "beijing")[0]
    assert row["keys"] == "lost or replaced" and key in row["problem"]
    with pytest.raises(KeyMaterialError, match="restore"):
        create_app(_settings(tenant))
    assert not path.exists()


@pytest.mark.parametrize("key", (FIELD_KEY, INDEX_KEY, AUDIT_KEY, PERSON_MATCH_KEY))
def test_a_swapped_key_the_data_depends_on_is_refused(tenant, write_cases, fsp, fsp_json, key):
    write_cases(1)
    path = _keys_dir(tenant) / key
    path.write_bytes(crypto.new_sm4_key() if key == FIELD_KEY else crypto.new_index_key())

    assert "was replaced" in fsp("up", "beijing", ok=False).stderr
    assert "replaced" in fsp_json("status", "beijing")[0]["problem"]
    with pytest.raises(KeyMaterialError, match="replaced"):
        create_app(_settings(tenant))


def test_the_database_remembers_the_keys_when_the_whole_keys_folder_is_lost(tenant, write_cases, fsp):
    write_cases(1)
    for path in _keys_dir(tenant).iterdir():
        path.unlink()

    refused = fsp("up", "beijing", ok=False).stderr
    assert "recorded in the database" in refused and FIELD_KEY in refused
    assert not (_keys_dir(tenant) / FIELD_KEY).exists()


def test_a_new_tenant_without_data_gets_a_lost_field_key_made_again(tenant, fsp, fsp_json):
    path = _keys_dir(tenant) / FIELD_KEY
    old = path.read_bytes()
    path.unlink()

    fsp("up", "beijing")
    assert path.read_bytes() != old
    assert fsp_json("status", "beijing")[0]["keys"] == "ok"


def test_the_token_key_is_replaceable(tenant, write_cases, fsp, fsp_json):
    write_cases(1)
    path = _keys_dir(tenant) / TOKEN_KEY
    path.unlink()

    fsp("up", "beijing")
    assert path.exists() and fsp_json("status", "beijing")[0]["keys"] == "ok"
    create_app(_settings(tenant)).state.ctx.engine.dispose()
