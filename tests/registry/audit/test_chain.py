"""The SM3 hash chain detects edits, deletions and truncation, and auditors alone may read it."""
import pytest
from sqlalchemy import text

from factories import create_institution
from registry.audit import service as audit
from registry.audit.models import AuditEntry


@pytest.fixture
def chain(client, mint):
    admin = mint("provincial-admin")
    for _ in range(4):
        create_institution(client, admin)
    return mint("auditor")


def verdict(client, auditor):
    response = client.get("/api/v1/audit/verify", headers=auditor)
    assert response.status_code == 200, response.text
    return response.json()


def test_intact_chain_verifies(client, chain):
    assert verdict(client, chain) == {"ok": True, "checked": 4, "first_broken_seq": None, "reason": None}


def test_edited_entry_is_named(client, session, chain):
    session.exec(text("UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 3"))
    session.commit()
    result = verdict(client, chain)
    assert (result["ok"], result["first_broken_seq"]) == (False, 3)
    assert "hash" in result["reason"]


def test_deleted_entry_is_named(client, session, chain):
    session.exec(text("DELETE FROM audit_entries WHERE seq = 2"))
    session.commit()
    result = verdict(client, chain)
    assert (result["ok"], result["first_broken_seq"]) == (False, 2)


def test_forger_who_rehashes_an_entry_breaks_the_next_link(client, session, chain):
    forged = session.get(AuditEntry, 2)
    forged.actor = "someone-else"
    forged.hash = audit._digest(prev_hash=forged.prev_hash, seq=forged.seq, at=forged.at, actor=forged.actor,
                                action=forged.action, object_type=forged.object_type, object_id=forged.object_id,
                                result=forged.result, detail=forged.detail)
    session.add(forged)
    session.commit()
    result = verdict(client, chain)
    assert (result["ok"], result["first_broken_seq"]) == (False, 3)
    assert "prev_hash" in result["reason"]


def test_truncated_tail_is_detected(client, session, chain):
    session.exec(text("DELETE FROM audit_entries WHERE seq = 4"))
    session.commit()
    result = verdict(client, chain)
    assert (result["ok"], result["first_broken_seq"]) == (False, 4)


def test_refusals_are_in_the_chain_and_filterable(client, mint, chain):
    client.post("/api/v1/institutions", json={"name": "x"}, headers=mint("provincial-admin"))
    refused = client.get("/api/v1/audit", params={"result": "refused"}, headers=chain).json()
    assert refused["count"] == 1 and refused["data"][0]["action"] == "POST /api/v1/institutions"
    assert verdict(client, chain)["ok"] is True


def test_administrators_cannot_read_the_audit_trail(client, mint):
    for role in ("provincial-admin", "system-admin", "security-admin", "registrar"):
        assert client.get("/api/v1/audit", headers=mint(role)).status_code == 403, role
