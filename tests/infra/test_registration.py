"""A province's exchange key registered with the ministry."""
from infra.ensure.keys import ensure_tenant_keys, exchange_public_key
from infra.ensure.registration import (
    ensure_exchange_registration,
    registered_peers,
    remove_exchange_registration,
)


def test_created_unchanged_then_updated_when_the_key_changes(tmp_path):
    peers = tmp_path / "ministry" / "exchange-peers"
    ensure_tenant_keys(tmp_path / "k1")
    ensure_tenant_keys(tmp_path / "k2")
    first, rotated = exchange_public_key(tmp_path / "k1"), exchange_public_key(tmp_path / "k2")

    assert ensure_exchange_registration(peers, slug="beijing", public_pem=first) == "created"
    assert ensure_exchange_registration(peers, slug="beijing", public_pem=first) == "unchanged"
    assert ensure_exchange_registration(peers, slug="beijing", public_pem=rotated) == "updated"

    assert (peers / "beijing.pem").read_bytes() == rotated
    assert registered_peers(peers) == ["beijing"]


def test_remove(tmp_path):
    peers = tmp_path / "exchange-peers"
    ensure_exchange_registration(peers, slug="tianjin", public_pem=b"pem")

    assert remove_exchange_registration(peers, slug="tianjin") == "deleted"
    assert remove_exchange_registration(peers, slug="tianjin") == "absent"
    assert registered_peers(peers) == []
