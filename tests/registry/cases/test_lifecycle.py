"""Status flow, corrections with reasons, archive, and audited disclosure of the full ID number."""
import uuid

import pytest

from assertions import assert_problem, assert_refused_and_nothing_written, last_audit, snapshot
from factories import case_payload, create_institution
from registry.cases.models import Case, CaseCorrection


@pytest.fixture
def institution(client, mint):
    return create_institution(client, mint("provincial-admin"))


@pytest.fixture
def registrar(mint, institution):
    return mint("registrar", institution_id=uuid.UUID(institution["id"]))


@pytest.fixture
def case(client, registrar, institution):
    response = client.post("/api/v1/cases", json=case_payload(institution["id"]), headers=registrar)
    assert response.status_code == 201, response.text
    return response.json()


def test_reviewer_registers_a_declared_case_once(client, mint, case):
    reviewer = mint("reviewer")
    response = client.post(f"/api/v1/cases/{case['id']}/register", headers=reviewer)
    assert response.status_code == 200 and response.json()["status"] == "registered"
    again = client.post(f"/api/v1/cases/{case['id']}/register", headers=reviewer)
    assert_problem(again, 409, "status", "status_flow")


def test_registrar_cannot_register(client, registrar, case):
    assert_problem(client.post(f"/api/v1/cases/{case['id']}/register", headers=registrar), 403,
                   "authorization", "permission")


def test_closing_needs_cremation_or_burial(client, registrar, case):
    assert_problem(client.post(f"/api/v1/cases/{case['id']}/close", headers=registrar), 409, "status", "status_flow")


def test_correction_needs_a_reason_and_is_recorded(client, session, registrar, case):
    path = f"/api/v1/cases/{case['id']}/corrections"
    assert_problem(client.post(path, json={"changes": {"deceased_name": "李四"}}, headers=registrar),
                   422, "reason", "missing")
    response = client.post(path, json={"changes": {"deceased_name": "李四", "death_place_type": "home"},
                                       "reason": "户籍信息核对更正"}, headers=registrar)
    assert response.status_code == 200, response.text
    assert response.json()["deceased_name"] == "李四" and response.json()["death_place_type"] == "home"
    assert response.json()["id_number"] == case["id_number"], "untouched personal data survives re-encryption"
    history = client.get(path, headers=registrar).json()
    assert history[0]["fields"] == ["death_place_type", "deceased_name"] and history[0]["reason"] == "户籍信息核对更正"
    entry = last_audit(session)
    assert entry.action == "case.correct" and "户籍信息核对更正" in entry.detail


def test_invalid_correction_changes_nothing(client, session, registrar, case):
    before = snapshot(session, CaseCorrection)
    response = client.post(f"/api/v1/cases/{case['id']}/corrections",
                           json={"changes": {"household_region": "999999"}, "reason": "录入错误"}, headers=registrar)
    assert_problem(response, 422, "changes.household_region", "region_code_known")
    assert_refused_and_nothing_written(session, before, CaseCorrection)
    assert session.get(Case, uuid.UUID(case["id"])).household_region == case["household_region"]


def test_correction_cannot_touch_status(client, registrar, case):
    response = client.post(f"/api/v1/cases/{case['id']}/corrections",
                           json={"changes": {"status": "closed"}, "reason": "想跳过流程"}, headers=registrar)
    assert_problem(response, 422, "changes.status", "correctable_field")


def test_correction_into_a_duplicate_is_refused(client, registrar, institution, case):
    other = client.post("/api/v1/cases", json=case_payload(institution["id"]), headers=registrar).json()
    source = client.get(f"/api/v1/cases/{case['id']}", headers=registrar).json()
    response = client.post(f"/api/v1/cases/{other['id']}/corrections", json={
        "changes": {"deceased_name": source["deceased_name"], "birth_date": source["birth_date"],
                    "id_type": "none", "id_number": None, "death_at": source["death_at"]},
        "reason": "合并核对"}, headers=registrar)
    assert_problem(response, 409, "deceased_name", "duplicate_name_birth_death")


def test_full_id_number_only_for_reviewers_and_audited(client, session, mint, registrar, institution):
    payload = case_payload(institution["id"])
    case = client.post("/api/v1/cases", json=payload, headers=registrar).json()
    assert client.get(f"/api/v1/cases/{case['id']}/id-number", headers=registrar).status_code == 403
    response = client.get(f"/api/v1/cases/{case['id']}/id-number", headers=mint("reviewer", subject="rev-7"))
    assert response.status_code == 200 and response.json()["id_number"] == payload["id_number"]
    entry = last_audit(session)
    assert (entry.actor, entry.action, entry.object_id) == ("rev-7", "case.read_id_number", case["id"])


def test_unknown_case_is_404(client, registrar):
    assert_problem(client.get(f"/api/v1/cases/{uuid.uuid4()}", headers=registrar), 404, "case_id", "exists")
    # only a UUID names a case (so GET /cases/imports is a 405, not a case named "imports")
    assert_problem(client.get("/api/v1/cases/not-a-uuid", headers=registrar), 404, "path", "route")
    assert_problem(client.get("/api/v1/cases/imports", headers=registrar), 405, "path", "method")


def test_archived_case_is_read_only(client, session, mint, registrar, case):
    row = session.get(Case, uuid.UUID(case["id"]))
    row.status = "closed"  # the cremation flow is tested with cremations; here only the archive rule matters
    session.add(row)
    session.commit()
    reviewer = mint("reviewer")
    response = client.post(f"/api/v1/cases/{case['id']}/archive", headers=reviewer)
    assert response.status_code == 200 and response.json()["archived_at"] is not None
    assert_problem(client.post(f"/api/v1/cases/{case['id']}/archive", headers=reviewer), 409, "status", "status_flow")
    correction = client.post(f"/api/v1/cases/{case['id']}/corrections",
                             json={"changes": {"deceased_name": "王五"}, "reason": "更正"}, headers=registrar)
    assert_problem(correction, 409, "case_id", "archived")
