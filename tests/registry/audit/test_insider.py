"""An insider who can write the tenant's database, but not its keys area, cannot rewrite the audit trail unseen.

Each attack below recomputes every SM3 hash and the write head, as someone with SQL access can; what they cannot
make is an entry's HMAC-SM3 seal (the audit key is only in the keys directory) or move the head's checkpoint
(a file outside the database).
"""
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import Session, col, select

from factories import create_institution
from registry.app import create_app
from registry.audit import service as audit
from registry.audit.models import AuditEntry
from registry.security import crypto
from registry.security.key_ledger import KEY_IDS, KeyFingerprint
from registry.security.keys import AUDIT_KEY, AUDIT_KEY_ID, KeyMaterialError
from registry.sequences import GENESIS_HASH, TenantSequences


@pytest.fixture
def chain(client, mint):
    admin = mint("provincial-admin")
    for _ in range(5):
        create_institution(client, admin)
    return mint("auditor")


def verdict(client, auditor) -> dict:
    response = client.get("/api/v1/audit/verify", headers=auditor)
    assert response.status_code == 200, response.text
    return response.json()


def rechain(session: Session, *, drop_seals_from: int | None = None) -> None:
    """What an insider does after tampering: recompute every link and hash in seq order, and the head."""
    session.rollback()
    prev = GENESIS_HASH
    entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()
    for entry in entries:
        entry.prev_hash = prev
        entry.hash = prev = audit._digest(prev_hash=prev, seq=entry.seq, at=entry.at, actor=entry.actor,
                                          action=entry.action, object_type=entry.object_type,
                                          object_id=entry.object_id, result=entry.result, detail=entry.detail)
        if drop_seals_from is not None and entry.seq >= drop_seals_from:  # as if written before sealing began
            entry.mac = None
        session.add(entry)
    head = session.get(TenantSequences, 1)
    head.audit_seq, head.audit_last_hash = (entries[-1].seq if entries else 0), prev
    session.add(head)
    session.commit()


def sql(session: Session, *statements: str) -> None:
    for statement in statements:
        session.exec(text(statement))
    session.commit()


@pytest.mark.parametrize("drop_seals_from", [None, 3], ids=["seals_kept", "seals_dropped"])
def test_an_edit_with_the_whole_chain_and_head_recomputed_is_named(client, session, chain, drop_seals_from):
    sql(session, "UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 3")
    rechain(session, drop_seals_from=drop_seals_from)

    result = verdict(client, chain)

    assert (result["ok"], result["first_broken_seq"]) == (False, 3)
    assert "seal" in result["reason"]


def test_the_last_entries_deleted_and_the_head_wound_back_is_named(client, session, chain):
    sql(session, "DELETE FROM audit_entries WHERE seq > 3")
    rechain(session)

    result = verdict(client, chain)

    assert (result["ok"], result["first_broken_seq"]) == (False, 4)
    assert "checkpoint outside the database" in result["reason"]


def test_two_entries_swapped_and_rechained_are_named(client, session, chain):
    sql(session, "UPDATE audit_entries SET seq = -2 WHERE seq = 2", "UPDATE audit_entries SET seq = 2 WHERE seq = 3",
        "UPDATE audit_entries SET seq = 3 WHERE seq = -2")
    rechain(session)

    result = verdict(client, chain)

    assert (result["ok"], result["first_broken_seq"]) == (False, 2)
    assert "seal" in result["reason"]


def test_a_middle_entry_deleted_and_the_rest_renumbered_is_named(client, session, chain):
    sql(session, "DELETE FROM audit_entries WHERE seq = 2",
        *(f"UPDATE audit_entries SET seq = {seq - 1} WHERE seq = {seq}" for seq in range(3, 6)))
    rechain(session)

    result = verdict(client, chain)

    assert (result["ok"], result["first_broken_seq"]) == (False, 2)
    assert "seal" in result["reason"]


def served_and_stopped(app, mint) -> None:
    """Five writes, then the server stops: its newest checkpoint is written on the way out."""
    with TestClient(app) as client:
        admin = mint("provincial-admin")
        for _ in range(5):
            create_institution(client, admin)


def test_truncation_is_caught_by_the_next_process_and_by_the_incremental_check(settings, app, mint, session):
    served_and_stopped(app, mint)
    first = audit.verify(session, anchor=app.state.ctx.journal.anchor)
    session.rollback()
    sql(session, "DELETE FROM audit_entries WHERE seq > 3")
    rechain(session)

    restarted = create_app(settings)
    try:
        with Session(restarted.state.ctx.engine) as fresh:
            anchor = restarted.state.ctx.journal.anchor
            assert audit.verify(fresh, anchor=anchor).first_broken_seq == 4
            assert audit.verify(fresh, anchor=anchor, since=first).first_broken_seq == 4
    finally:
        restarted.state.ctx.engine.dispose()


def test_a_sealed_chain_without_its_checkpoint_file_is_not_vouched_for(settings, client, chain):
    settings.audit_checkpoint_path.unlink()

    result = verdict(client, chain)

    assert result["ok"] is False and "checkpoint file" in result["reason"]


def test_entries_written_before_sealing_began_are_covered_by_the_first_checkpoint(settings, client, session, chain):
    # as after the upgrade: entries without a seal, no checkpoint file yet
    sql(session, "UPDATE audit_entries SET mac = NULL")
    settings.audit_checkpoint_path.unlink()
    assert verdict(client, chain)["ok"] is True  # writes the first checkpoint, at the chain's end
    sql(session, "UPDATE audit_entries SET actor = 'someone-else' WHERE seq = 2")
    rechain(session)

    result = verdict(client, chain)

    # the edited entry itself had no seal to break: the first checkpoint, which covers it, names where it shows
    assert (result["ok"], result["first_broken_seq"]) == (False, 5) and "checkpoint" in result["reason"]


def test_a_missing_audit_key_stops_the_registry_with_a_clear_error(settings, client, chain):
    (settings.keys_dir / AUDIT_KEY).unlink()

    with pytest.raises(KeyMaterialError, match="audit key .* is missing but sealed"):
        create_app(settings)  # development makes missing keys, but never this one once it sealed entries


def test_a_replaced_audit_key_stops_the_registry(settings, client, chain):
    (settings.keys_dir / AUDIT_KEY).write_bytes(crypto.new_audit_key())

    with pytest.raises(KeyMaterialError, match="replaced"):
        create_app(settings)


def test_an_audit_key_replaced_with_its_id_fails_verification(settings, app, mint):
    served_and_stopped(app, mint)
    new_key = crypto.new_audit_key()
    (settings.keys_dir / AUDIT_KEY).write_bytes(new_key)
    (settings.keys_dir / AUDIT_KEY_ID).write_text(crypto.key_id(new_key))
    with pytest.raises(KeyMaterialError, match="replaced"):  # the database remembers the key that sealed the chain
        create_app(settings)
    # an insider who also rewrites that record (in the database and beside the keys) gets past the start...
    with Session(app.state.ctx.engine) as session:
        session.get(KeyFingerprint, AUDIT_KEY).key_id = crypto.key_id(new_key)
        session.commit()
    (settings.keys_dir / KEY_IDS).unlink()

    restarted = create_app(settings)  # ...but not past verification
    try:
        with Session(restarted.state.ctx.engine) as session:
            result = audit.verify(session, anchor=restarted.state.ctx.journal.anchor)
    finally:
        restarted.state.ctx.engine.dispose()

    assert result.ok is False and "audit key was replaced" in result.reason


def test_tenants_whose_keys_sit_side_by_side_keep_separate_checkpoints(tmp_path):
    from registry.config import Settings

    paths = {Settings(tenant_code=code, tenant_slug=slug, keys_dir=tmp_path / f"keys-{slug}").audit_checkpoint_path
             for slug, code in (("beijing", "110000"), ("tianjin", "120000"))}
    assert len(paths) == 2 and all(path.parent == tmp_path for path in paths)
