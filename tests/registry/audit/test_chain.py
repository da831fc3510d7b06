"""The SM3 hash chain detects edits, deletions and truncation, and auditors alone may read it."""
import pytest
from sqlalchemy import event, text
from sqlmodel import Session

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


def test_intact_chain_verifies(client, session, chain):
    last = session.get(AuditEntry, 4)
    assert verdict(client, chain) == {"ok": True, "checked": 4, "first_broken_seq": None, "reason": None,
                                      "through_seq": 4, "through_hash": last.hash, "full": True}


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


def test_forger_who_rehashes_an_entry_cannot_seal_it(client, session, chain):
    forged = session.get(AuditEntry, 2)
    forged.actor = "someone-else"
    forged.hash = audit._digest(prev_hash=forged.prev_hash, seq=forged.seq, at=forged.at, actor=forged.actor,
                                action=forged.action, object_type=forged.object_type, object_id=forged.object_id,
                                result=forged.result, detail=forged.detail)
    session.add(forged)
    session.commit()
    result = verdict(client, chain)
    assert (result["ok"], result["first_broken_seq"]) == (False, 2)
    assert "seal" in result["reason"]


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


# --- incremental verification (the periodic check between full walks) -----------------------------------------

def _verify(app, since=None):
    with Session(app.state.ctx.engine) as session:
        return audit.verify(session, anchor=app.state.ctx.journal.anchor, since=since)


def _write(app, n: int) -> None:
    with Session(app.state.ctx.engine) as session, app.state.ctx.journal.write(session, actor="tester") as unit:
        for i in range(n):
            unit.record(action="test.write", object_type="test", object_id=str(i))


def test_an_incremental_verification_hashes_only_the_new_entries(app, chain):
    first = _verify(app)
    _write(app, 3)

    later = _verify(app, since=first)

    assert (later.ok, later.full, later.checked, later.through_seq) == (True, False, 3, 7)
    assert later.through_hash == _verify(app).through_hash


def test_an_incremental_verification_names_a_broken_new_entry(app, session, chain):
    first = _verify(app)
    _write(app, 3)
    session.exec(text("UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 6"))
    session.commit()

    later = _verify(app, since=first)

    assert (later.ok, later.first_broken_seq) == (False, 6)


@pytest.mark.parametrize("statement", ["DELETE FROM audit_entries WHERE seq = 2",
                                       "UPDATE audit_entries SET actor = 'x' WHERE seq = 4"])
def test_an_entry_verified_before_that_is_removed_or_is_the_checkpoint_is_caught(app, session, chain, statement):
    first = _verify(app)
    session.exec(text(statement))
    session.commit()

    later = _verify(app, since=first)

    # the quick checks (a count, the checkpoint's hash) fail, and the whole walk names the entry
    assert (later.ok, later.full, later.first_broken_seq) == (False, True, int(statement[-1]))


def test_old_edits_are_caught_by_the_periodic_full_walk(app, session, chain, monkeypatch):
    status = app.state.ctx.metrics.audit_chain
    status.record(_verify(app))
    session.exec(text("UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 2"))  # keeps its place
    session.commit()

    monkeypatch.setattr("registry.metrics.AUDIT_VERIFY_EVERY_SECONDS", 0.0)  # every check is due
    status.refresh_if_due().join(timeout=30)  # incremental: the old entry is not hashed again
    assert status._verdict.ok and not status._verdict.full

    monkeypatch.setattr("registry.metrics.AUDIT_FULL_VERIFY_EVERY_SECONDS", 0.0)
    status.refresh_if_due().join(timeout=30)
    assert (status._verdict.ok, status._verdict.full, status._verdict.first_broken_seq) == (False, True, 2)


def test_writers_racing_the_walk_do_not_make_the_chain_look_cut_short(app, chain):
    with Session(app.state.ctx.engine) as session:
        wrote = []

        @event.listens_for(session, "do_orm_execute")
        def write_meanwhile(state):  # once the walk has started, another writer commits two entries
            if state.is_select and not wrote and "audit_entries" in str(state.statement):
                wrote.append(True)
                _write(app, 2)

        result = audit.verify(session, anchor=app.state.ctx.journal.anchor)

    assert wrote and result.ok, result
    assert result.through_seq == 4  # the entries written meanwhile are left to the next verification
