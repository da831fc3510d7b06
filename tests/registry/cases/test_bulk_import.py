"""Bulk backfill (历史数据补录): a batch checked like declarations, written set-wise, audited per batch and provable."""
import gc
import json
import uuid
from datetime import UTC, date

import pytest
from sqlmodel import select, update

from assertions import count
from factories import case_payload, create_institution, declare_case, resident_id
from registry.audit import service as audit
from registry.audit.models import AuditEntry
from registry.cases import bulk
from registry.cases.fields import ID_CONTEXT, event_payload
from registry.cases.models import Case, CasePublic, CaseStatus
from registry.outbox.models import OutboxEvent
from registry.security.crypto import sm3_hex

BULK = "/api/v1/cases/imports/bulk"


@pytest.fixture
def admin(mint):
    return mint("provincial-admin", subject="backfill-clerk")


@pytest.fixture
def crematorium(client, admin):
    return create_institution(client, admin, type="crematorium")


def archived(institution, n: int, **overrides) -> dict:
    birth = date(1931, 3, 1 + n % 28)
    record = case_payload(institution["id"], deceased_name=f"档案逝者{n:04d}", birth_date=birth.isoformat(),
                          id_number=resident_id(birth=birth, seq=n % 1000), death_certificate_no=f"A-{n:06d}",
                          death_at="2012-05-06T10:00:00+08:00", archive_ref=f"BJ-2012/{n:06d}")
    return {**record, **overrides}


def post(client, headers, records, **params):
    response = client.post(BULK, json={"records": records}, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_batch_is_written_with_an_event_each_one_audit_entry_and_a_re_run_changes_nothing(
        app, client, session, admin, crematorium):
    records = [archived(crematorium, n) for n in range(50)]
    audit_before = count(session, AuditEntry)

    answer = post(client, admin, records)
    again = post(client, admin, records)

    assert (answer["created"], answer["already_present"], answer["refused"], answer["rejects"]) == (50, 0, 0, [])
    assert (again["created"], again["already_present"], again["refused"]) == (0, 50, 0)
    session.rollback()
    cases = session.exec(select(Case).where(Case.archive_ref.is_not(None))).all()
    assert len(cases) == 50 and {c.status for c in cases} == {CaseStatus.closed}
    assert all(c.archived_at is not None and c.id_number_cipher.startswith("sm4gcm1:") for c in cases)
    events = session.exec(select(OutboxEvent).where(OutboxEvent.event_type == "case.imported")
                          .order_by(OutboxEvent.seq)).all()
    assert len(events) == 50 and {e.aggregate_id for e in events} == {str(c.id) for c in cases}
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 50))  # gap-free
    assert records[0]["id_number"] not in events[0].payload  # masked, as for declared cases
    assert count(session, AuditEntry) == audit_before + 1  # one entry for the batch
    assert audit.verify(session, anchor=app.state.ctx.journal.anchor).ok


def test_an_imported_cases_event_carries_what_a_declared_cases_event_does(app, client, session, admin, crematorium):
    record = archived(crematorium, 7, deceased_name="欧阳·娜仁")
    post(client, admin, [record])
    session.rollback()
    case = session.exec(select(Case).where(Case.archive_ref == record["archive_ref"])).one()
    event = session.exec(select(OutboxEvent).where(OutboxEvent.aggregate_id == str(case.id))).one()
    person_ref = app.state.ctx.person_ref(record["id_type"], record["id_number"])
    assert json.loads(event.payload) == event_payload(CasePublic.of(case), person_ref)


def test_a_record_hash_keeps_the_canonical_form_earlier_imports_were_recorded_in(session, client, admin, crematorium):
    # the batches' audit entries hold hashes made before: the canonical form of each stored value must not drift
    post(client, admin, [archived(crematorium, 3)])
    session.rollback()
    row = session.exec(select(Case)).one().model_dump()

    def canonical(value):
        if isinstance(value, CaseStatus):
            return value.value
        if hasattr(value, "astimezone"):
            return value.astimezone(UTC).isoformat(timespec="microseconds")
        if isinstance(value, date | uuid.UUID):
            return str(value)
        return value

    hashed = [canonical(row[name]) for name in bulk._HASHED]
    assert bulk.record_hash(row) == sm3_hex(json.dumps(hashed, ensure_ascii=False, separators=(",", ":")).encode())


def test_each_imported_case_is_proven_by_its_batch_entry_and_an_edit_shows(app, client, session, admin,
                                                                          crematorium):
    auditor = {"Authorization": f"Bearer {app.state.ctx.issuer.mint('auditor-1', ['auditor'])}"}
    post(client, admin, [archived(crematorium, n) for n in range(3)])
    case = session.exec(select(Case).where(Case.archive_ref == "BJ-2012/000002")).one()

    proof = client.get(f"/api/v1/cases/{case.id}/import-proof", headers=auditor).json()

    assert (proof["archive_ref"], proof["imported_by"], proof["entry_intact"], proof["unchanged"]) == (
        "BJ-2012/000002", "backfill-clerk", True, True)
    session.exec(update(Case).where(Case.id == case.id).values(deceased_name="改过的名字"))
    session.commit()
    edited = client.get(f"/api/v1/cases/{case.id}/import-proof", headers=auditor).json()
    assert (edited["entry_intact"], edited["unchanged"]) == (True, False)
    entry = session.get(AuditEntry, proof["audit_seq"])
    detail = json.loads(entry.detail)
    detail["records"][2][2] = "0" * 64  # the recorded hash made to match something else
    session.exec(update(AuditEntry).where(AuditEntry.seq == entry.seq).values(detail=json.dumps(detail)))
    session.commit()
    assert client.get(f"/api/v1/cases/{case.id}/import-proof", headers=auditor).json()["entry_intact"] is False


def test_a_declared_case_has_no_import_proof(app, client, admin, crematorium, registrar, funeral_home):
    auditor = {"Authorization": f"Bearer {app.state.ctx.issuer.mint('auditor-1', ['auditor'])}"}
    declared = declare_case(client, registrar, funeral_home["id"])
    response = client.get(f"/api/v1/cases/{declared['id']}/import-proof", headers=auditor)
    assert response.status_code == 422
    assert response.json()["errors"][0]["rule"] == "bulk_imported"


def test_every_rule_refuses_its_record_alone_in_chinese_and_the_refusals_are_audited(
        app, client, session, admin, crematorium, registrar, funeral_home):
    existing = declare_case(client, registrar, funeral_home["id"])
    stored = session.get(Case, uuid.UUID(existing["id"]))
    existing_number = app.state.ctx.decrypt(ID_CONTEXT, stored.id_number_cipher)
    post(client, admin, [archived(crematorium, 900)])
    good = archived(crematorium, 1)
    records = [
        good,                                                               # 0 created
        archived(crematorium, 2, sex="x"),                                  # 1 enum
        archived(crematorium, 3, id_number="110105193103010015"),           # 2 id_checksum
        archived(crematorium, 4, household_region="999999"),                # 3 region_code_known
        archived(crematorium, 5, birth_date="2013-01-01"),                  # 4 id_birth_date
        archived(crematorium, 6, archive_ref="BJ-2012/000001"),             # 5 archive_ref_repeated
        archived(crematorium, 7, archive_ref="BJ-2012/000900"),             # 6 archive_ref_conflict
        archived(crematorium, 8, id_type="resident_id", id_number=existing_number,
                 birth_date=existing_number[6:10] + "-" + existing_number[10:12] + "-" + existing_number[12:14]),  # 7
        {**archived(crematorium, 9), "deceased_name": good["deceased_name"], "id_type": "none",
         "id_number": None, "birth_date": good["birth_date"]},              # 8 duplicate_name_birth_death
        archived(crematorium, 10, institution_id=str(uuid.uuid4())),        # 9 exists
        archived(crematorium, 11, death_at="2015年3月2日"),                  # 10 datetime_from_date_parsing
        archived(crematorium, 12, archive_ref="坏 号"),                      # 11 string_pattern_mismatch
    ]

    answer = post(client, admin, records)

    assert (answer["created"], answer["refused"]) == (1, 11)
    rules = {r["index"]: r["errors"][0]["rule"] for r in answer["rejects"]}
    assert rules == {1: "enum", 2: "id_checksum", 3: "region_code_known", 4: "id_birth_date",
                     5: "archive_ref_repeated", 6: "archive_ref_conflict", 7: "duplicate_id_number",
                     8: "duplicate_name_birth_death", 9: "exists", 10: "datetime_from_date_parsing",
                     11: "string_pattern_mismatch"}
    assert all(r["errors"][0]["message"] and r["errors"][0]["message"].isascii() is False for r in answer["rejects"])
    assert next(r for r in answer["rejects"] if r["index"] == 11)["archive_ref"] is None  # not repeated back
    session.rollback()
    entry = session.exec(select(AuditEntry).where(AuditEntry.result == audit.REFUSED)
                         .order_by(AuditEntry.seq.desc()).limit(1)).first()
    refused = json.loads(entry.detail)["refused"]
    assert len(refused) == 11 and refused[0] == {"record": "BJ-2012/000002", "errors": [
        {"field": "sex", "rule": "enum"}]}
    assert good["id_number"] not in entry.detail and good["deceased_name"] not in entry.detail


def test_a_dry_run_answers_the_same_and_writes_nothing(client, session, admin, crematorium):
    records = [archived(crematorium, n) for n in range(5)] + [archived(crematorium, 6, sex="x")]
    before = [count(session, table) for table in (Case, AuditEntry, OutboxEvent)]

    answer = post(client, admin, records, dry_run="true")

    assert (answer["dry_run"], answer["created"], answer["refused"]) == (True, 5, 1)
    session.rollback()
    assert [count(session, table) for table in (Case, AuditEntry, OutboxEvent)] == before


def test_only_the_provincial_admin_imports_and_a_batch_has_a_bound(client, session, admin, crematorium, registrar):
    refused = client.post(BULK, json={"records": [archived(crematorium, 1)]}, headers=registrar)
    assert refused.status_code == 403
    too_many = client.post(BULK, json={"records": [{}] * 2001}, headers=admin)
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["rule"] == "too_long"
    assert count(session, Case) == 0


def test_a_full_batch_claims_its_thousands_of_keys_and_is_written(client, session, admin, crematorium):
    # a thousand records are 3,000 natural keys to claim: more than one statement may hold (PostgreSQL: 1664)
    records = [archived(crematorium, n, archive_ref=f"BIG-{n:05d}", deceased_name=f"整批逝者{n:05d}",
                        id_number=resident_id(birth=date(1931, 3, 1 + n % 28), seq=n // 28)) for n in range(1000)]

    answer = post(client, admin, records)

    assert (answer["created"], answer["refused"]) == (1000, 0)
    assert count(session, Case) == 1000


def test_the_cycle_collector_runs_again_after_a_batch_written_checked_or_refused(client, admin, crematorium):
    assert gc.isenabled()
    answers = [post(client, admin, [archived(crematorium, n) for n in range(5)]),
               post(client, admin, [archived(crematorium, n) for n in range(5, 8)], dry_run="true"),
               post(client, admin, [archived(crematorium, 9, sex="M")])]

    assert [(a["created"], a["refused"]) for a in answers] == [(5, 0), (3, 0), (0, 1)]
    assert gc.isenabled()  # paused only while a batch runs
