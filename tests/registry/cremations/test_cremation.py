"""Recording a cremation: registered → cremated, audited and queued; every rule refuses with nothing written."""
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from assertions import assert_hidden_like_a_missing_case
from factories import create_institution, declare_case
from registry.audit.models import AuditEntry
from registry.cremations.models import Cremation
from registry.outbox.models import OutboxEvent


def _path(case: dict) -> str:
    return f"/api/v1/cases/{case['id']}/cremation"


@pytest.fixture
def case_status(client, mint):
    return lambda case: client.get(f"/api/v1/cases/{case['id']}", headers=mint("reviewer")).json()["status"]


def test_cremation_moves_the_case_to_cremated_and_is_audited_and_queued(
        client, app, session, mint, registrar, funeral_home, registered_case, cremation_payload, case_status):
    metrics = app.state.ctx.metrics.registry
    payload = cremation_payload(funeral_home["id"])

    response = client.post(_path(registered_case), json=payload, headers=registrar)

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["case_id"], body["institution_id"], body["furnace_no"]) == (
        registered_case["id"], funeral_home["id"], "F-03")
    assert datetime.fromisoformat(body["ended_at"]) == datetime.fromisoformat(payload["ended_at"])
    assert case_status(registered_case) == "cremated"
    assert client.get(_path(registered_case), headers=mint("reviewer")).json() == body
    assert metrics.get_sample_value("fsp_cremations_total") == 1

    events = session.exec(select(OutboxEvent).order_by(col(OutboxEvent.seq).desc()).limit(2)).all()
    assert [(e.event_type, e.aggregate_id) for e in events] == [
        ("cremation.recorded", body["id"]), ("case.cremated", registered_case["id"])]
    assert json.loads(events[0].payload) == body
    entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(2)).all()
    assert [(e.action, e.object_id, e.actor, e.result) for e in entries] == [
        ("cremation.record", body["id"], "registrar-fh", "ok"),
        ("case.cremate", registered_case["id"], "registrar-fh", "ok")]


def test_a_crematorium_cremates_too(client, mint, admin, register, cremation_payload, case_status):
    crematorium = create_institution(client, admin, type="crematorium")
    registrar = mint("registrar", institution_id=uuid.UUID(crematorium["id"]))
    case = register(declare_case(client, registrar, crematorium["id"]))
    response = client.post(_path(case), json=cremation_payload(crematorium["id"]), headers=registrar)
    assert response.status_code == 201, response.text
    assert case_status(case) == "cremated"


def test_a_start_a_few_minutes_ahead_is_clock_skew_not_the_future(
        client, registrar, funeral_home, registered_case, cremation_payload):
    soon = datetime.now(UTC) + timedelta(minutes=3)
    payload = cremation_payload(funeral_home["id"], started_at=soon.isoformat(),
                                ended_at=(soon + timedelta(minutes=1)).isoformat())
    assert client.post(_path(registered_case), json=payload, headers=registrar).status_code == 201


def test_no_cremation_yet_is_not_found(client, registrar, registered_case):
    response = client.get(_path(registered_case), headers=registrar)
    assert response.status_code == 404 and response.json()["errors"][0]["field"] == "cremation"


def test_only_a_registered_case_is_cremated(
        client, registrar, funeral_home, cremation_payload, expect_refusal, case_status):
    declared = declare_case(client, registrar, funeral_home["id"])
    expect_refusal(_path(declared), cremation_payload(funeral_home["id"]), registrar, 409, "status", "status_flow",
                   Cremation)
    assert case_status(declared) == "declared"


def test_a_case_is_cremated_once(client, registrar, funeral_home, cremated_case, cremation_payload, expect_refusal):
    existing = client.get(_path(cremated_case), headers=registrar).json()
    body = expect_refusal(_path(cremated_case), cremation_payload(funeral_home["id"]), registrar, 409, "case_id",
                          "unique", Cremation)
    assert body["errors"][0]["existing_id"] == existing["id"]


def test_cremation_needs_the_death_medical_certificate(
        client, registrar, funeral_home, register, cremation_payload, expect_refusal, case_status):
    case = register(declare_case(client, registrar, funeral_home["id"], death_certificate_no=None))
    expect_refusal(_path(case), cremation_payload(funeral_home["id"]), registrar, 422, "death_certificate_no",
                   "death_certificate_required", Cremation)
    assert case_status(case) == "registered"


def _times(case: dict, rule: str) -> dict:
    death, now = datetime.fromisoformat(case["death_at"]), datetime.now(UTC)
    start, end = {
        "after_death": (death - timedelta(minutes=1), death + timedelta(hours=1)),
        "date_order": (now - timedelta(hours=2), now - timedelta(hours=3)),
        "not_future": (now + timedelta(minutes=10), now + timedelta(minutes=70)),
    }[rule]
    return {"started_at": start.isoformat(), "ended_at": end.isoformat()}


@pytest.mark.parametrize("field, rule", [("started_at", "after_death"), ("ended_at", "date_order"),
                                         ("started_at", "not_future")])
def test_times_must_make_sense(client, registrar, funeral_home, registered_case, cremation_payload, expect_refusal,
                               case_status, field, rule):
    payload = cremation_payload(funeral_home["id"], **_times(registered_case, rule))
    expect_refusal(_path(registered_case), payload, registrar, 422, field, rule, Cremation)
    assert case_status(registered_case) == "registered"


def test_naive_times_are_refused(client, registrar, funeral_home, registered_case, cremation_payload, expect_refusal):
    payload = cremation_payload(funeral_home["id"], started_at="2025-01-01T08:00:00")
    expect_refusal(_path(registered_case), payload, registrar, 422, "started_at", "timezone_aware", Cremation)


def test_only_a_funeral_home_or_crematorium_cremates(
        client, mint, admin, register, cremation_payload, expect_refusal, case_status):
    cemetery = create_institution(client, admin, type="public_cemetery")
    registrar = mint("registrar", institution_id=uuid.UUID(cemetery["id"]))
    case = register(declare_case(client, registrar, cemetery["id"]))
    expect_refusal(_path(case), cremation_payload(cemetery["id"]), registrar, 422, "institution_id",
                   "institution_type", Cremation)
    assert case_status(case) == "registered"


def test_an_unknown_institution_is_invalid_input(client, registrar, registered_case, cremation_payload, expect_refusal):
    expect_refusal(_path(registered_case), cremation_payload(uuid.uuid4()), registrar, 422, "institution_id",
                   "exists", Cremation)


def test_a_registrar_cremates_only_at_their_own_institution(
        client, admin, registrar, registered_case, cremation_payload, expect_refusal, case_status):
    elsewhere = create_institution(client, admin, type="crematorium")
    expect_refusal(_path(registered_case), cremation_payload(elsewhere["id"]), registrar, 403, "institution_id",
                   "institution_binding", Cremation)
    assert case_status(registered_case) == "registered"


def test_a_reviewer_cannot_record_a_cremation(
        client, mint, funeral_home, registered_case, cremation_payload, expect_refusal):
    expect_refusal(_path(registered_case), cremation_payload(funeral_home["id"]), mint("reviewer"), 403,
                   "authorization", "permission", Cremation)


@pytest.mark.parametrize("status", ["declared", "registered"])
def test_another_institution_cannot_cremate_a_case_nor_learn_it_exists(
        client, mint, admin, registrar, funeral_home, register, cremation_payload, case_status, expect_refusal, status):
    case = declare_case(client, registrar, funeral_home["id"])
    if status == "registered":
        register(case)
    crematorium = create_institution(client, admin, type="crematorium")
    outsider = mint("registrar", institution_id=uuid.UUID(crematorium["id"]))
    expect_refusal(_path(case), cremation_payload(crematorium["id"]), outsider, 404, "case_id", "exists", Cremation)
    assert_hidden_like_a_missing_case(client, "POST", _path(case), case["id"], outsider,
                                      json=cremation_payload(crematorium["id"]))
    assert case_status(case) == status
    if status == "registered":  # its own institution still cremates it and certifies the cremation
        own = client.post(_path(case), json=cremation_payload(funeral_home["id"]), headers=registrar)
        assert own.status_code == 201, own.text
        assert client.post(f"/api/v1/cases/{case['id']}/certificates", headers=registrar).status_code == 201
