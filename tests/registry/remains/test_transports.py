"""Remains transport (遗体接运): by a funeral home or service station, for an open case, at sensible times."""
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from registry.remains.models import Transport


def _path(case: dict) -> str:
    return f"/api/v1/cases/{case['id']}/transports"


def _transport(institution: dict, **overrides) -> dict:
    departed = datetime.now(UTC) - timedelta(hours=6)
    payload = {"institution_id": institution["id"], "from_address": "海淀区某医院太平间",
               "to_address": "本馆冷藏间", "vehicle_plate": "京A12345", "departed_at": departed.isoformat(),
               "arrived_at": (departed + timedelta(minutes=40)).isoformat()}
    payload.update(overrides)
    return payload


def test_transport_is_recorded_audited_and_queued(client, registrar, funeral_home, declared_case, case_status,
                                                  recorded):
    payload = _transport(funeral_home, vehicle_plate=" 京ad12345 ")  # normalised: trimmed, upper case
    response = client.post(_path(declared_case), json=payload, headers=registrar)

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["case_id"], body["vehicle_plate"]) == (declared_case["id"], "京AD12345")
    assert client.get(_path(declared_case), headers=registrar).json() == {"data": [body], "count": 1}
    assert case_status(declared_case) == "declared"
    events, entries = recorded()
    assert [(t, i) for t, i, _ in events] == [("transport.recorded", body["id"])]
    assert json.loads(events[0][2]) == body
    assert entries == [("transport.record", body["id"], "ok")]


def test_a_service_station_transports(client, make_institution, registrar_of, case_at):
    station = make_institution("service_station")
    headers = registrar_of(station)
    case = case_at(station, headers, "registered")
    assert client.post(_path(case), json=_transport(station), headers=headers).status_code == 201


def test_only_a_funeral_home_or_service_station_transports(make_institution, registrar_of, case_at, expect_refusal):
    crematorium = make_institution("crematorium")
    headers = registrar_of(crematorium)
    case = case_at(crematorium, headers, "declared")
    expect_refusal(_path(case), _transport(crematorium), headers, 422, "institution_id", "institution_type", Transport)


def test_an_unknown_institution_is_invalid_input(registrar, declared_case, expect_refusal):
    expect_refusal(_path(declared_case), _transport({"id": str(uuid.uuid4())}), registrar, 422, "institution_id",
                   "exists", Transport)


def test_a_registrar_transports_only_for_their_own_institution(make_institution, registrar, declared_case,
                                                                expect_refusal):
    elsewhere = make_institution("funeral_home")
    expect_refusal(_path(declared_case), _transport(elsewhere), registrar, 403, "institution_id",
                   "institution_binding", Transport)


def _times(case: dict, rule: str) -> dict:
    death, now = datetime.fromisoformat(case["death_at"]), datetime.now(UTC)
    departed, arrived = {
        "after_death": (death - timedelta(minutes=5), death + timedelta(hours=1)),
        "date_order": (now - timedelta(hours=1), now - timedelta(hours=2)),
        "not_future": (now + timedelta(minutes=10), now + timedelta(minutes=50)),
    }[rule]
    return {"departed_at": departed.isoformat(), "arrived_at": arrived.isoformat()}


@pytest.mark.parametrize("field, rule", [("departed_at", "after_death"), ("arrived_at", "date_order"),
                                         ("departed_at", "not_future")])
def test_times_must_make_sense(funeral_home, registrar, declared_case, expect_refusal, field, rule):
    payload = _transport(funeral_home, **_times(declared_case, rule))
    expect_refusal(_path(declared_case), payload, registrar, 422, field, rule, Transport)


@pytest.mark.parametrize("plate", ["A12345", "京A1234", "京A1234567", "XA12345"])
def test_the_plate_must_be_a_chinese_plate(funeral_home, registrar, declared_case, expect_refusal, plate):
    expect_refusal(_path(declared_case), _transport(funeral_home, vehicle_plate=plate), registrar, 422,
                   "vehicle_plate", "string_pattern_mismatch", Transport)


@pytest.mark.parametrize("status, field, rule", [("closed", "status", "status_flow"),
                                                 ("archived", "case_id", "archived")])
def test_a_closed_or_archived_case_takes_no_transport(funeral_home, registrar, case_at, expect_refusal, status, field,
                                                      rule):
    case = case_at(funeral_home, registrar, status)
    expect_refusal(_path(case), _transport(funeral_home), registrar, 409, field, rule, Transport)


def test_a_reviewer_cannot_record_a_transport(funeral_home, reviewer, declared_case, expect_refusal):
    expect_refusal(_path(declared_case), _transport(funeral_home), reviewer, 403, "authorization", "permission",
                   Transport)


def test_another_institutions_case_is_not_found(make_institution, registrar_of, declared_case, expect_refusal):
    other = make_institution("funeral_home")
    expect_refusal(_path(declared_case), _transport(other), registrar_of(other), 404, "case_id", "exists", Transport)
