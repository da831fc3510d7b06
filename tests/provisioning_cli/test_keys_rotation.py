"""`fsp keys`: field, signing and token keys rotated while the registry keeps serving; old rows moved; old keys
retired only when nothing depends on them; every step audited; a rotated tenant backs up and restores whole."""
import json
import uuid

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from registry.app import create_app
from registry.audit.models import AuditEntry
from registry.cases.fields import ID_CONTEXT
from registry.cases.models import Case
from registry.exchange.signing import BatchSigner, canonical, verified
from registry.security import crypto, field_keys
from registry.security.key_ledger import recorded_in_database
from registry.security.keys import FIELD_KEY, PREVIOUS_TOKEN_KEY
from registry.security.reencryption import reencrypt, versions_in_use
from tests.factories import case_payload, create_institution
from tests.provisioning_cli.test_backup_restore import _destroy


@pytest.fixture(autouse=True)
def _ring_rereads_at_once(monkeypatch):
    monkeypatch.setattr(field_keys, "REFRESH_SECONDS", 0.0)


def _settings(tenant):
    return tenant.settings(tenant.catalog.resolve("beijing"))


def _versions(tenant) -> list[int]:
    """The field key version of every case's ID number ciphertext, as stored."""
    with tenant.engine(tenant.catalog.resolve("beijing")) as engine, Session(engine) as session:
        return sorted(crypto.ciphertext_version(case.id_number_cipher) for case in session.exec(select(Case)))


def _audited(tenant, action: str) -> list[dict]:
    with tenant.engine(tenant.catalog.resolve("beijing")) as engine, Session(engine) as session:
        entries = session.exec(select(AuditEntry).where(AuditEntry.action == action, AuditEntry.actor == "fsp keys")
                               .order_by(AuditEntry.seq))
        return [{"object_id": e.object_id, **json.loads(e.detail)} for e in entries]


def _read_all(ctx) -> dict[str, str]:
    with Session(ctx.engine) as session:
        return {str(case.id): ctx.decrypt(ID_CONTEXT, case.id_number_cipher) for case in session.exec(select(Case))}


def test_field_rotation_keeps_every_row_readable_moves_old_rows_and_retires_the_old_key(tenant, write_cases, fsp,
                                                                                       fsp_json):
    before = write_cases(2)
    app = create_app(_settings(tenant))  # a registry serving through the whole rotation, never restarted
    ctx = app.state.ctx

    rotated = fsp_json("keys", "rotate", "beijing", "--field")
    assert rotated["version"] == 2
    after = write_cases(1)  # written by a registry started after the rotation
    with TestClient(app) as client:  # the one started before: it reads both and now writes with version 2
        admin = {"Authorization": f"Bearer {ctx.issuer.mint('admin', ['provincial-admin'])}"}
        home_id = create_institution(client, admin)["id"]
        registrar = {"Authorization": "Bearer " + ctx.issuer.mint("registrar", ["registrar"],
                                                                 institution_id=uuid.UUID(home_id))}
        payload = case_payload(home_id)
        created = client.post("/api/v1/cases", json=payload, headers=registrar)
        assert created.status_code == 201, created.text
    everything = {**before, **after, created.json()["id"]: payload["id_number"]}
    assert _read_all(ctx) == everything
    assert _versions(tenant) == [1, 1, 2, 2]

    refused = fsp("keys", "retire", "beijing", "--field", "1", ok=False).stderr
    assert "still use field key version 1" in refused and "fsp keys reencrypt" in refused
    moved = fsp_json("keys", "reencrypt", "beijing")
    assert moved["version"] == 2 and moved["moved"] >= 2 and set(moved["by_version"]) == {"2"}
    assert _versions(tenant) == [2, 2, 2, 2] and _read_all(ctx) == everything

    retired = fsp_json("keys", "retire", "beijing", "--field", "1")
    assert retired["version"] == 1 and not (tenant.home.tenant("beijing").keys / FIELD_KEY).exists()
    assert _read_all(ctx) == everything
    fsp("up", "beijing")  # neither refused (the retirement is recorded) nor a new version 1 made
    assert not (tenant.home.tenant("beijing").keys / FIELD_KEY).exists()
    assert fsp_json("status", "beijing")[0]["keys"] == "ok"
    restarted = create_app(_settings(tenant))
    with TestClient(restarted) as client:  # the blind index was not rotated: searches still find each case
        admin = {"Authorization": f"Bearer {restarted.state.ctx.issuer.mint('admin', ['provincial-admin'])}"}
        for case_id, number in everything.items():
            found = client.post("/api/v1/cases/search", json={"id_number": number}, headers=admin).json()
            assert [c["id"] for c in found["data"]] == [case_id]
    restarted.state.ctx.engine.dispose()
    ctx.engine.dispose()
    assert [(e["object_id"], e["version"]) for e in _audited(tenant, "rotate_key")] == [("field", 2)]
    assert [e["moved"] for e in _audited(tenant, "reencrypt")] == [moved["moved"]]
    retirements = _audited(tenant, "retire_key")
    assert "still use field key version 1" in retirements[0]["reason"]  # the refusal, audited
    assert [e.get("version") for e in retirements] == [None, 1]


def test_the_newest_version_is_never_retired_and_a_lost_rotated_key_is_refused(tenant, write_cases, fsp, fsp_json):
    write_cases(1)
    fsp("keys", "rotate", "beijing", "--field", "--reencrypt")
    assert "is the newest" in fsp("keys", "retire", "beijing", "--field", "2", ok=False).stderr
    listed = fsp_json("keys", "list", "beijing")
    assert (listed["field"]["current"], listed["field"]["versions"]) == (2, [1, 2])
    assert set(listed["field"]["values_by_version"]) == {"2"} and [k["algorithm"] for k in listed["signing"]] == ["sm2"]
    with tenant.engine(tenant.catalog.resolve("beijing")) as engine:
        assert "field-sm4.v2.key" in recorded_in_database(engine)
    (tenant.home.tenant("beijing").keys / "field-sm4.v2.key").unlink()
    refused = fsp("up", "beijing", ok=False).stderr
    assert "field-sm4.v2.key" in refused and "fsp restore" in refused


def test_reencryption_interrupted_resumes_where_it_stopped(tenant, write_cases, fsp):
    write_cases(3)
    fsp("keys", "rotate", "beijing", "--field")
    settings = _settings(tenant)
    ring = field_keys.FieldKeyRing.load(settings.keys_dir)

    class Interrupted(Exception):
        pass

    def stop_after_first_batch(field: str, moved: int) -> None:
        if moved:
            raise Interrupted

    with tenant.engine(tenant.catalog.resolve("beijing")) as engine:
        with pytest.raises(Interrupted):
            reencrypt(engine, ring, batch=1, progress=stop_after_first_batch)
        assert _versions(tenant) == [1, 1, 2]  # the committed batch stays moved
        rest = reencrypt(engine, ring, batch=1)
        assert rest["cases.id_number_cipher"] == 2 and versions_in_use(engine, ring).get(1, 0) == 0
    assert _versions(tenant) == [2, 2, 2]


def test_signing_rotation_registers_both_keys_until_the_old_one_is_retired(tenant, fsp_json):
    peers = tenant.home.tenant("ministry").peers
    keys = tenant.home.tenant("beijing").keys
    body = canonical({"province": "beijing", "events": []})
    old_signature = BatchSigner(keys).sign(body)  # a new tenant's first pair: SM2 version 1

    rotated = fsp_json("keys", "rotate", "beijing", "--signing")
    assert (rotated["version"], rotated["algorithm"]) == (2, "sm2") and rotated["registered_with_ministry"]
    assert len(rotated["accepted"]) == 2
    new_signature = BatchSigner(keys).sign(body)
    assert new_signature.startswith("sm2:") and old_signature.startswith("sm2:")
    assert verified(peers, "beijing", body, old_signature) and verified(peers, "beijing", body, new_signature)

    fsp_json("keys", "retire", "beijing", "--signing")
    assert not verified(peers, "beijing", body, old_signature) and verified(peers, "beijing", body, new_signature)
    assert [e["object_id"] for e in _audited(tenant, "retire_key")] == ["signing"]


def test_token_rotation_keeps_old_tokens_valid_until_retired(tenant, fsp, fsp_json):
    old_token = fsp("token", "beijing", "--role", "auditor").stdout.strip()
    fsp_json("keys", "rotate", "beijing", "--token")
    assert "retire" in fsp("keys", "rotate", "beijing", "--token", ok=False).stderr  # one overlap at a time
    new_token = fsp("token", "beijing", "--role", "auditor").stdout.strip()

    def accepted(token: str) -> bool:
        app = create_app(_settings(tenant))
        try:
            with TestClient(app) as client:
                assert len(client.get("/.well-known/jwks.json").json()["keys"]) == (
                    2 if (tenant.home.tenant("beijing").keys / PREVIOUS_TOKEN_KEY).exists() else 1)
                return client.get("/api/v1/audit/verify", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        finally:
            app.state.ctx.engine.dispose()

    assert accepted(old_token) and accepted(new_token)
    fsp("keys", "retire", "beijing", "--token")
    assert not accepted(old_token) and accepted(new_token)


def test_a_rotated_tenant_backs_up_and_restores_every_key_version(tenant, write_cases, fsp, fsp_json, backup_key,
                                                                  db_backend, request):
    before = write_cases(2)
    fsp("keys", "rotate", "beijing", "--field")
    fsp("keys", "rotate", "beijing", "--signing")
    after = write_cases(1)
    assert _versions(tenant) == [1, 1, 2]
    taken = json.loads(fsp("backup", "beijing", "--json").stdout)
    keys = tenant.home.tenant("beijing").keys
    saved = {path.name: path.read_bytes() for path in keys.iterdir() if path.is_file()}
    _destroy(tenant, db_backend, request.getfixturevalue("pg_admin_url") if db_backend == "postgresql" else None)

    restored = fsp_json("restore", "beijing", "--from", taken["file"], "--yes")
    assert {c["check"]: c["ok"] for c in restored["checks"]}["personal_data"]
    assert {path.name: path.read_bytes() for path in keys.iterdir() if path.name in saved} == saved
    app = create_app(_settings(tenant))
    try:
        assert _read_all(app.state.ctx) == {**before, **after}
    finally:
        app.state.ctx.engine.dispose()
    assert fsp_json("status", "beijing")[0]["keys"] == "ok"


def test_rotation_needs_exactly_one_kind(tenant, fsp):
    assert "exactly one" in fsp("keys", "rotate", "beijing", ok=False).stderr
    assert "exactly one" in fsp("keys", "rotate", "beijing", "--field", "--token", ok=False).stderr
    assert "--reencrypt goes with --field" in fsp("keys", "rotate", "beijing", "--token", "--reencrypt", ok=False).stderr

