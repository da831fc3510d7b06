"""The ministry's receiving endpoint over real HTTP: signed batches stored once, refusals audited, nothing
half-written."""
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from assertions import last_audit
from infra.ensure.registration import ensure_exchange_registration
from registry.app import create_app
from registry.exchange.models import ExchangeCursor, NationalEvent
from registry.exchange.signing import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    SIGNATURE_HEADER,
    BatchSigner,
    add_signing_version,
    canonical,
    public_key_set,
    retire_older_signing_versions,
)
from registry.security import crypto

PATH = "/api/v1/exchange/batches"


def _event(seq: int, event_id: uuid.UUID | None = None) -> dict:
    return {"seq": seq, "event_id": str(event_id or uuid.uuid5(uuid.NAMESPACE_URL, f"beijing/{seq}")),
            "at": datetime(2026, 11, 1, 8, tzinfo=UTC).isoformat(), "event_type": "case.declared",
            "aggregate_type": "case", "aggregate_id": f"case-{seq}", "payload": {"seq": seq, "name": "测试"}}


def _batch(first: int, last: int, province: str = "beijing", **overrides) -> dict:
    return {"province": province, "province_code": "110000", "first_seq": first, "last_seq": last,
            "events": [_event(seq) for seq in range(first, last + 1)], **overrides}


@pytest.fixture
def signer(province_keys) -> BatchSigner:
    return BatchSigner(province_keys)


@pytest.fixture
def post(ministry_url, signer):
    """`post(batch dict | bytes, private_pem=... | signature=...)`: the request as a province sends it."""

    def _post(batch, *, private_pem: bytes | None = None, signature: str | None = None) -> httpx.Response:
        body = batch if isinstance(batch, bytes) else canonical(batch)
        if signature is None:
            signature = crypto.ed25519_sign(private_pem, body) if private_pem else signer.sign(body)
        return httpx.post(ministry_url + PATH, content=body, headers={SIGNATURE_HEADER: signature}, timeout=10)

    return _post


def _refused_audit(session, status: int) -> dict:
    entry = last_audit(session)
    assert entry.result == "refused" and entry.action == f"POST {PATH}", entry
    assert json.loads(entry.detail)["status"] == status
    return json.loads(entry.detail)


def test_a_signed_batch_is_stored_with_its_province_and_acknowledged(post, ministry_session, national_count):
    response = post(_batch(1, 3))

    assert response.status_code == 200, response.text
    assert response.json() == {"acknowledged_through": 3, "stored": 3, "epoch": 1}
    ministry_session.rollback()
    rows = ministry_session.exec(select(NationalEvent).order_by(NationalEvent.province_seq)).all()
    assert [(r.province_slug, r.province_code, r.province_seq) for r in rows] == [
        ("beijing", "110000", 1), ("beijing", "110000", 2), ("beijing", "110000", 3)]
    assert json.loads(rows[0].payload) == {"seq": 1, "name": "测试"}
    assert rows[0].occurred_at == datetime(2026, 11, 1, 8, tzinfo=UTC)
    assert ministry_session.get(ExchangeCursor, ("beijing", 1)).acknowledged_seq == 3
    entry = last_audit(ministry_session)
    assert (entry.actor, entry.result, entry.object_id) == ("exchange:beijing", "ok", "beijing:1-3")


def test_a_replayed_or_overlapping_batch_stores_only_what_is_new(post, national_count):
    first = post(_batch(1, 3))
    replay = post(_batch(1, 3))
    overlap = post(_batch(2, 5))

    assert first.json()["acknowledged_through"] == replay.json()["acknowledged_through"] == 3
    assert replay.json()["stored"] == 0
    assert overlap.json() == {"acknowledged_through": 5, "stored": 2, "epoch": 1}
    assert national_count(province_slug="beijing") == 5


def test_an_unverifiable_batch_is_401_audited_and_stores_nothing(post, signer, ministry_url, ministry_session,
                                                                  national_count):
    body = canonical(_batch(1, 2))
    other_private, _ = crypto.new_exchange_signing_key()
    forgeries = {
        "tampered body": lambda: post(body.replace("测试".encode(), "篡改".encode()), signature=signer.sign(body)),
        "another key": lambda: post(body, private_pem=other_private),
        "unregistered province": lambda: post(_batch(1, 2, province="tianjin"), private_pem=other_private),
        "no signature": lambda: httpx.post(ministry_url + PATH, content=body, timeout=10),
        "garbage signature": lambda: post(body, signature="not base64 at all!"),
    }
    for forgery, send in forgeries.items():
        response = send()

        assert response.status_code == 401, (forgery, response.text)
        assert response.json()["errors"][0]["rule"] == "exchange_signature", forgery
        assert national_count() == 0, forgery
        assert ministry_session.exec(select(ExchangeCursor)).all() == [], forgery
        _refused_audit(ministry_session, 401)
        assert last_audit(ministry_session).actor == "anonymous", forgery  # an unverified name is nobody
    metrics = httpx.get(ministry_url + "/metrics", timeout=10).text
    assert f'fsp_exchange_refusals_total{{reason="unauthorized"}} {float(len(forgeries))}' in metrics
    assert 'province="tianjin"' not in metrics


def test_a_batch_after_a_gap_is_409_naming_the_expected_seq_and_stores_nothing(post, ministry_session,
                                                                               national_count):
    post(_batch(1, 2))

    response = post(_batch(4, 5))

    assert response.status_code == 409, response.text
    problem = response.json()["errors"][0]
    assert (problem["field"], problem["rule"], problem["expected_seq"]) == ("first_seq", "no_gap", 3)
    assert national_count() == 2
    ministry_session.rollback()
    assert ministry_session.get(ExchangeCursor, ("beijing", 1)).acknowledged_seq == 2
    assert _refused_audit(ministry_session, 409)["errors"][0]["expected_seq"] == 3


def test_a_resent_seq_with_another_event_id_is_409(post, ministry_session, national_count):
    post(_batch(1, 2))
    changed = _batch(2, 3)
    changed["events"][0]["event_id"] = str(uuid.uuid4())

    response = post(changed)

    assert response.status_code == 409 and response.json()["errors"][0]["rule"] == "matches_received"
    assert national_count() == 2
    _refused_audit(ministry_session, 409)


def test_a_malformed_batch_is_422_and_stores_nothing(post, ministry_session, national_count):
    malformed = [
        (b"[1, 2", "body"),
        (_batch(1, 3, events=[_event(1), _event(3)]), "body"),
        (_batch(1, 1, events=[{**_event(1), "at": "2026-11-01T08:00:00"}]), "events.0"),
        (_batch(1, 1, unexpected="x"), "unexpected"),
    ]
    for body, field in malformed:
        response = post(body)

        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == field
        assert national_count() == 0
        _refused_audit(ministry_session, 422)


def test_the_batch_size_is_bounded(ministry_settings, signer):
    app = create_app(ministry_settings.model_copy(update={"exchange_max_batch_events": 2}))
    body = canonical(_batch(1, 3))
    with TestClient(app) as client:
        response = client.post(PATH, content=body, headers={SIGNATURE_HEADER: signer.sign(body)})
    app.state.ctx.engine.dispose()

    assert response.status_code == 422 and response.json()["errors"][0]["rule"] == "max_items"


def test_a_province_app_has_no_receiving_endpoint(client, signer):
    body = canonical(_batch(1, 1))

    response = client.post(PATH, content=body, headers={SIGNATURE_HEADER: signer.sign(body)})

    assert response.status_code == 404


def test_accepted_batches_are_counted_per_province(post, ministry_url):
    post(_batch(1, 2))
    post(_batch(1, 2))

    metrics = httpx.get(ministry_url + "/metrics", timeout=10).text

    assert 'fsp_exchange_batches_received_total{province="beijing"} 2.0' in metrics
    assert 'fsp_exchange_events_received_total{province="beijing"} 2.0' in metrics


def test_the_same_batch_sent_concurrently_is_stored_once(post, national_count):
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: post(_batch(1, 3)), range(4)))

    assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
    assert {a.json()["acknowledged_through"] for a in answers} == {3}
    assert sum(a.json()["stored"] for a in answers) == 3
    assert national_count() == 3


def test_during_a_signing_rotation_the_ministry_accepts_old_and_new_keys_then_only_the_new(
        post, tmp_path, peers_dir, national_count):
    keys = tmp_path / "provisioned-before-the-switch"  # an Ed25519 pair, as provisioning made it before SM2
    keys.mkdir(mode=0o700)
    old_private, old_public = crypto.new_exchange_signing_key()
    (keys / PRIVATE_KEY_FILE).write_bytes(old_private)
    (keys / PUBLIC_KEY_FILE).write_bytes(old_public)

    def register() -> None:
        ensure_exchange_registration(peers_dir, slug="beijing", public_pem=public_key_set(keys))

    register()
    signer = BatchSigner(keys)  # a shipper running through the rotation
    assert post(_batch(1, 1), signature=signer.sign(canonical(_batch(1, 1)))).status_code == 200

    add_signing_version(keys, publish=register)
    sm2_signed = canonical(_batch(2, 2))
    assert signer.sign(sm2_signed).startswith("sm2:")  # it moved to the new key by itself
    assert post(sm2_signed, signature=signer.sign(sm2_signed)).status_code == 200
    assert post(_batch(3, 3), private_pem=old_private).status_code == 200  # a batch signed before, sent late

    retire_older_signing_versions(keys)
    register()
    refused = post(_batch(4, 4), private_pem=old_private)
    assert refused.status_code == 401 and refused.json()["errors"][0]["rule"] == "exchange_signature"
    assert post(_batch(4, 4), signature=signer.sign(canonical(_batch(4, 4)))).status_code == 200
    assert national_count(province_slug="beijing") == 4
