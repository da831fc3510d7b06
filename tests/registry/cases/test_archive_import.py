"""Backfill of archived cases (历史数据补录): each record answered on its own, re-runs change nothing."""
import uuid
from datetime import date

import pytest
from sqlmodel import select

from assertions import assert_problem, count, last_audit
from factories import case_payload, create_institution, resident_id
from registry.audit import service as audit
from registry.audit.models import AuditEntry
from registry.cases.models import Case, CaseStatus
from registry.outbox.models import OutboxEvent

IMPORTS = "/api/v1/cases/imports"


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
    record.update(overrides)
    return record


def post(client, headers, records, **params):
    response = client.post(IMPORTS, json={"records": records}, headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_records_are_imported_closed_archived_audited_and_shipped(app, client, session, admin, crematorium):
    records = [archived(crematorium, n) for n in range(3)]

    answer = post(client, admin, records)

    assert (answer["created"], answer["already_present"], answer["refused"]) == (3, 0, 0)
    assert [r["outcome"] for r in answer["results"]] == ["created"] * 3
    case = session.get(Case, uuid.UUID(answer["results"][1]["case_id"]))
    assert (case.status, case.archive_ref, case.archived_at is not None) == (CaseStatus.closed, "BJ-2012/000001", True)
    found = client.get("/api/v1/cases", params={"archive_ref": "BJ-2012/000001"}, headers=admin).json()
    assert [(c["id"], c["archive_ref"], c["status"]) for c in found["data"]] == [(str(case.id), "BJ-2012/000001",
                                                                                  "closed")]
    assert case.id_number_cipher and records[1]["id_number"] not in case.id_number_cipher  # encrypted like any case
    events = session.exec(select(OutboxEvent).where(OutboxEvent.event_type == "case.imported")).all()
    assert len(events) == 3 and '"archive_ref": "BJ-2012/000000"' in events[0].payload
    entry = last_audit(session)
    assert (entry.action, entry.actor, entry.result) == ("case.import", "backfill-clerk", audit.OK)
    assert audit.verify(session, anchor=app.state.ctx.journal.anchor).ok


def test_re_running_an_import_changes_nothing(client, session, admin, crematorium):
    records = [archived(crematorium, n) for n in range(4)]
    first = post(client, admin, records)
    before = (count(session, Case), count(session, OutboxEvent), count(session, AuditEntry))

    again = post(client, admin, records)

    assert (again["created"], again["already_present"], again["refused"]) == (0, 4, 0)
    assert [r["case_id"] for r in again["results"]] == [r["case_id"] for r in first["results"]]
    session.rollback()
    assert (count(session, Case), count(session, OutboxEvent), count(session, AuditEntry)) == before


def test_a_bad_record_is_refused_alone_with_its_errors_and_audited(client, session, admin, crematorium):
    records = [archived(crematorium, n) for n in range(4)]
    records[1]["id_number"] = records[1]["id_number"][:-1] + ("0" if records[1]["id_number"][-1] != "0" else "1")
    records[2]["institution_id"] = str(uuid.uuid4())
    records[3]["archive_ref"] = "not a number!"

    answer = post(client, admin, records)

    outcomes = [(r["outcome"], [(e["field"], e["rule"]) for e in r["errors"]]) for r in answer["results"]]
    assert outcomes[0] == ("created", [])
    assert outcomes[1][0] == "refused" and outcomes[1][1][0][0] == "id_number"
    assert outcomes[2] == ("refused", [("institution_id", "exists")])
    assert outcomes[3][0] == "refused" and outcomes[3][1][0][0] == "archive_ref"
    assert count(session, Case) == 1
    refused = session.exec(select(AuditEntry).where(AuditEntry.result == audit.REFUSED)).all()
    assert sorted(e.object_id for e in refused) == ["#3", "BJ-2012/000001", "BJ-2012/000002"]
    assert all(records[1]["id_number"] not in e.detail for e in refused)  # no personal data in the trail


def test_duplicates_of_live_cases_or_within_the_import_are_refused_naming_the_other(client, admin, crematorium,
                                                                                   mint):
    registrar = mint("registrar", institution_id=uuid.UUID(crematorium["id"]))
    forged = client.post("/api/v1/cases", json=archived(crematorium, 7), headers=registrar)
    assert_problem(forged, 422, "archive_ref", "extra_forbidden")  # only an import sets an archive number
    live = client.post("/api/v1/cases", json={k: v for k, v in archived(crematorium, 7).items() if k != "archive_ref"},
                       headers=registrar)
    assert live.status_code == 201, live.text
    records = [archived(crematorium, 7, archive_ref="BJ-2012/777777"),  # the same person as the live case
               archived(crematorium, 8),
               archived(crematorium, 9, archive_ref="BJ-2012/000008"),  # the archive number of the record before
               archived(crematorium, 10, id_number=archived(crematorium, 8)["id_number"],
                        birth_date=archived(crematorium, 8)["birth_date"])]  # the ID number of record 1

    answer = post(client, admin, records)

    first, _, repeated, same_id = answer["results"]
    assert first["errors"][0]["rule"] == "duplicate_id_number"
    assert first["errors"][0]["existing_case_id"] == live.json()["id"]
    assert (repeated["outcome"], repeated["errors"][0]["rule"]) == ("refused", "archive_ref_repeated")
    assert same_id["errors"][0]["existing_case_id"] == answer["results"][1]["case_id"]
    assert answer["created"] == 1


def test_an_archive_number_reused_for_another_person_is_a_conflict(client, admin, crematorium):
    post(client, admin, [archived(crematorium, 1)])

    answer = post(client, admin, [archived(crematorium, 2, archive_ref="BJ-2012/000001")])

    (result,) = answer["results"]
    assert (result["outcome"], result["errors"][0]["rule"]) == ("refused", "archive_ref_conflict")


def test_a_dry_run_checks_everything_and_writes_nothing(client, session, admin, crematorium):
    records = [archived(crematorium, n) for n in range(3)] + [archived(crematorium, 3, sex="x")]
    before = (count(session, Case), count(session, OutboxEvent), count(session, AuditEntry))

    answer = post(client, admin, records, dry_run="true")

    assert answer["dry_run"] is True
    assert [r["outcome"] for r in answer["results"]] == ["valid", "valid", "valid", "refused"]
    assert all(r["case_id"] is None for r in answer["results"])
    session.rollback()
    assert (count(session, Case), count(session, OutboxEvent), count(session, AuditEntry)) == before


def test_only_an_administrator_imports_and_batches_are_bounded(client, admin, crematorium, mint, session):
    registrar = mint("registrar", institution_id=uuid.UUID(crematorium["id"]), subject="reg")
    assert_problem(client.post(IMPORTS, json={"records": [archived(crematorium, 1)]}, headers=registrar),
                   403, "authorization", "permission")
    assert (last_audit(session).actor, last_audit(session).result) == ("reg", audit.REFUSED)
    assert_problem(client.post(IMPORTS, json={"records": []}, headers=admin), 422, "records", "too_short")
    too_many = [archived(crematorium, n) for n in range(101)]  # about 57 KB: under the body limit
    assert_problem(client.post(IMPORTS, json={"records": too_many}, headers=admin), 422, "records", "too_long")
    session.rollback()
    assert count(session, Case) == 0
