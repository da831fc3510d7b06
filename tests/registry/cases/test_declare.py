"""Declaring a death: validation, encryption, masking, duplicates, and the write path."""
import uuid
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from assertions import assert_problem, assert_refused_and_nothing_written, last_audit, snapshot
from factories import case_payload, create_institution, resident_id
from registry.cases.models import Case
from registry.outbox.models import OutboxEvent


@pytest.fixture
def institution(client, mint):
    return create_institution(client, mint("provincial-admin"))


@pytest.fixture
def registrar(mint, institution):
    return mint("registrar", institution_id=uuid.UUID(institution["id"]), subject="registrar-1")


def test_declared_case_is_masked_encrypted_audited_and_queued(client, session, registrar, institution):
    payload = case_payload(institution["id"])
    response = client.post("/api/v1/cases", json=payload, headers=registrar)
    assert response.status_code == 201, response.text
    body = response.json()
    number = payload["id_number"]
    assert body["status"] == "declared"
    assert body["id_number"] == number[:6] + "************"
    assert body["informant"]["phone"] == "138****5678"

    row = session.get(Case, uuid.UUID(body["id"]))
    assert number not in (row.id_number_cipher or "") and row.id_number_cipher.startswith("sm4gcm1:")
    assert "13812345678" not in row.informant_phone_cipher
    event = session.exec(select(OutboxEvent).where(OutboxEvent.aggregate_id == body["id"])).one()
    assert event.event_type == "case.declared" and number not in event.payload
    entry = last_audit(session)
    assert (entry.actor, entry.action, entry.object_id, entry.result) == ("registrar-1", "case.declare", body["id"], "ok")


def test_lookup_by_id_number_uses_the_blind_index(client, registrar, institution):
    payload = case_payload(institution["id"])
    created = client.post("/api/v1/cases", json=payload, headers=registrar).json()
    client.post("/api/v1/cases", json=case_payload(institution["id"]), headers=registrar)
    found = client.post("/api/v1/cases/search", json={"id_number": payload["id_number"]}, headers=registrar).json()
    assert [c["id"] for c in found["data"]] == [created["id"]]


def test_same_id_number_is_refused_naming_the_existing_case(client, session, registrar, institution):
    first_payload = case_payload(institution["id"])
    first = client.post("/api/v1/cases", json=first_payload, headers=registrar).json()
    again = case_payload(institution["id"], id_number=first_payload["id_number"],
                         birth_date=first_payload["birth_date"], deceased_name="另一个名字")
    before = snapshot(session, Case)
    response = client.post("/api/v1/cases", json=again, headers=registrar)
    problem = assert_problem(response, 409, "id_number", "duplicate_id_number")
    assert problem["errors"][0]["existing_case_id"] == first["id"]
    assert_refused_and_nothing_written(session, before, Case)


def test_same_name_and_birth_with_close_death_dates_is_a_duplicate(client, session, registrar, institution):
    first = case_payload(institution["id"], id_type="none", id_number=None)
    created = client.post("/api/v1/cases", json=first, headers=registrar).json()
    three_days_earlier = datetime.fromisoformat(first["death_at"]) - timedelta(days=3)
    near = dict(first, death_at=three_days_earlier.isoformat())
    response = client.post("/api/v1/cases", json=near, headers=registrar)
    assert_problem(response, 409, "deceased_name", "duplicate_name_birth_death")
    assert response.json()["errors"][0]["existing_case_id"] == created["id"]


def test_same_name_and_birth_far_apart_is_not_a_duplicate(client, registrar, institution):
    first = case_payload(institution["id"], id_type="none", id_number=None,
                         death_at="2025-01-01T08:00:00+08:00")
    assert client.post("/api/v1/cases", json=first, headers=registrar).status_code == 201
    later = dict(first, death_at="2025-01-07T09:00:00+08:00")
    assert client.post("/api/v1/cases", json=later, headers=registrar).status_code == 201


BAD_INPUT = [
    ({"id_number": "110105194912310010"}, "id_number", "id_checksum"),
    ({"birth_date": "1950-01-01"}, "birth_date", "id_birth_date"),
    ({"household_region": "999999"}, "household_region", "region_code_known"),
    ({"death_at": "2099-01-01T00:00:00+08:00"}, "death_at", "not_future"),
    ({"death_at": "2025-01-01T00:00:00"}, "death_at", "timezone_aware"),
    ({"ethnicity": "60"}, "ethnicity", "ethnicity_code"),
    ({"sex": "3"}, "sex", "enum"),
    ({"id_type": "passport", "id_number": None}, "id_number", "missing"),
    ({"deceased_name": ""}, "deceased_name", "string_too_short"),
    ({"unexpected": 1}, "unexpected", "extra_forbidden"),
]


@pytest.mark.parametrize(("override", "field", "rule"), BAD_INPUT, ids=[r for _, _, r in BAD_INPUT])
def test_bad_input_names_field_and_rule_and_writes_only_the_refusal(client, session, registrar, institution,
                                                                   override, field, rule):
    before = snapshot(session, Case)
    response = client.post("/api/v1/cases", json=case_payload(institution["id"], **override), headers=registrar)
    assert_problem(response, 422, field, rule)
    assert_refused_and_nothing_written(session, before, Case)


def test_unknown_institution_is_a_clear_422(client, session, mint):
    nowhere = uuid.uuid4()
    before = snapshot(session, Case)
    response = client.post("/api/v1/cases", json=case_payload(nowhere), headers=mint("registrar", institution_id=nowhere))
    assert_problem(response, 422, "institution_id", "exists")
    assert_refused_and_nothing_written(session, before, Case)


def test_registrar_cannot_declare_for_another_institution(client, session, mint, registrar):
    other = create_institution(client, mint("provincial-admin"))
    before = snapshot(session, Case)
    response = client.post("/api/v1/cases", json=case_payload(other["id"]), headers=registrar)
    assert_problem(response, 403, "institution_id", "institution_binding")
    assert_refused_and_nothing_written(session, before, Case)


def test_unbound_registrar_cannot_declare(client, mint, institution):
    response = client.post("/api/v1/cases", json=case_payload(institution["id"]),
                           headers={**mint("registrar"), "Accept-Language": "en"})
    assert_problem(response, 403, "institution_id", "institution_binding")
    assert "not bound" in response.json()["errors"][0]["message"]


def test_registrar_sees_only_own_institutions_cases(client, mint, registrar, institution):
    other = create_institution(client, mint("provincial-admin"))
    other_registrar = mint("registrar", institution_id=uuid.UUID(other["id"]))
    theirs = client.post("/api/v1/cases", json=case_payload(other["id"]), headers=other_registrar).json()
    assert client.get(f"/api/v1/cases/{theirs['id']}", headers=registrar).status_code == 404
    assert client.get("/api/v1/cases", headers=registrar).json()["count"] == 0
    assert client.get(f"/api/v1/cases/{theirs['id']}", headers=mint("reviewer")).status_code == 200


def test_unknown_identity_is_accepted_without_number(client, registrar, institution):
    response = client.post("/api/v1/cases", json=case_payload(institution["id"], id_type="none", id_number=None),
                           headers=registrar)
    assert response.status_code == 201, response.text
    assert response.json()["id_number"] is None


def test_lowercase_x_check_digit_is_normalised(client, mint, registrar, institution):
    number = next(n for n in (resident_id(seq=s) for s in range(1000)) if n.endswith("X"))
    payload = case_payload(institution["id"], id_number=number.lower(), birth_date="1949-12-31")
    response = client.post("/api/v1/cases", json=payload, headers=registrar)
    assert response.status_code == 201, response.text
    disclosed = client.get(f"/api/v1/cases/{response.json()['id']}/id-number", headers=mint("reviewer"))
    assert disclosed.json()["id_number"] == number
