"""The audit checkpoint file is signed with the tenant's published SM2 key: an auditor checks it with the public
key alone; an altered signature is named; a file from before signing (no signature) still verifies by its seals."""
import json

import pytest

from factories import create_institution
from registry.audit.anchor import AuditAnchor
from registry.security import crypto
from registry.security.keys import load_certificate_key


@pytest.fixture
def auditor(client, mint):
    admin = mint("provincial-admin")
    for _ in range(3):
        create_institution(client, admin)
    return {**mint("auditor")}


def _verify(client, auditor) -> dict:
    response = client.get("/api/v1/audit/verify", headers=auditor)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_checkpoint_file_verifies_with_the_published_sm2_public_key_alone(settings, client, auditor):
    assert _verify(client, auditor)["ok"] is True
    data = json.loads(settings.audit_checkpoint_path.read_text())
    published = client.get("/.well-known/fsp-certificate-key").json()["public_key"]
    assert data["signing_key_id"] == load_certificate_key(settings.keys_dir).key_id
    assert crypto.sm2_verify(published, AuditAnchor.signed_bytes(data), data["signature"])
    data["head"]["seq"] += 1  # what the signature covers
    assert not crypto.sm2_verify(published, AuditAnchor.signed_bytes(data), data["signature"])


def test_an_altered_signature_is_named(settings, client, auditor):
    _verify(client, auditor)
    data = json.loads(settings.audit_checkpoint_path.read_text())
    other_private, other_public = crypto.new_sm2_key()
    data["signature"] = crypto.sm2_sign(other_private, other_public, AuditAnchor.signed_bytes(data))
    settings.audit_checkpoint_path.write_text(json.dumps(data))

    result = _verify(client, auditor)
    assert result["ok"] is False and "SM2 signature" in result["reason"]


def test_a_checkpoint_file_from_before_signing_still_verifies(settings, client, auditor):
    _verify(client, auditor)
    data = json.loads(settings.audit_checkpoint_path.read_text())
    for name in ("signature", "signing_key_id"):
        del data[name]
    settings.audit_checkpoint_path.write_text(json.dumps(data))

    assert _verify(client, auditor)["ok"] is True
    assert "signature" not in json.loads(settings.audit_checkpoint_path.read_text())  # the unsigned file was checked
