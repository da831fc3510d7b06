"""Remains storage (遗体存放): at a funeral home, one body per cabinet, one cabinet per body, released once."""
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from registry.remains.models import Storage


def _path(case: dict, storage_id=None) -> str:
    path = f"/api/v1/cases/{case['id']}/storages"
    return f"{path}/{storage_id}/release" if storage_id else path


def _storage(institution: dict, **overrides) -> dict:
    payload = {"institution_id": institution["id"], "cabinet_no": "A-07",
               "stored_at": (datetime.now(UTC) - timedelta(hours=20)).isoformat()}
    payload.update(overrides)
    return payload


def _release(hours_ago: float = 1) -> dict:
    return {"released_at": (datetime.now(UTC) - timedelta(hours=hours_ago)).isoformat()}


@pytest.fixture
def stored(client, registrar, funeral_home, declared_case):
    response = client.post(_path(declared_case), json=_storage(funeral_home), headers=registrar)
    assert response.status_code == 201, response.text
    return response.json()


def test_storage_and_release_are_recorded_audited_and_queued(client, registrar, funeral_home, declared_case,
                                                             recorded):
    response = client.post(_path(declared_case), json=_storage(funeral_home), headers=registrar)
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["released_at"] is None and stored["cabinet_no"] == "A-07"
    events, entries = recorded()
    assert [(t, i) for t, i, _ in events] == [("storage.recorded", stored["id"])]
    assert entries == [("storage.record", stored["id"], "ok")]

    release = _release()
    response = client.post(_path(declared_case, stored["id"]), json=release, headers=registrar)

    assert response.status_code == 200, response.text
    released = response.json()
    assert datetime.fromisoformat(released["released_at"]) == datetime.fromisoformat(release["released_at"])
    assert client.get(_path(declared_case), headers=registrar).json() == {"data": [released], "count": 1}
    events, entries = recorded()
    assert [(t, i) for t, i, _ in events] == [("storage.released", stored["id"])]
    assert json.loads(events[0][2]) == released
    assert entries == [("storage.release", stored["id"], "ok")]


def test_a_storage_is_released_once(client, registrar, declared_case, stored, expect_refusal):
    first = _release(2)
    assert client.post(_path(declared_case, stored["id"]), json=first, headers=registrar).status_code == 200
    expect_refusal(_path(declared_case, stored["id"]), _release(1), registrar, 409, "storage_id", "already_released",
                   Storage)
    released_at = client.get(_path(declared_case), headers=registrar).json()["data"][0]["released_at"]
    assert datetime.fromisoformat(released_at) == datetime.fromisoformat(first["released_at"]), "the first one stands"


@pytest.mark.parametrize("body, field, rule", [
    ({"released_at": (datetime.now(UTC) - timedelta(days=1, hours=1)).isoformat()}, "released_at", "date_order"),
    ({"released_at": (datetime.now(UTC) + timedelta(minutes=30)).isoformat()}, "released_at", "not_future"),
    ({}, "released_at", "missing"),
])
def test_release_times_must_make_sense(client, session, registrar, declared_case, stored, expect_refusal, body, field,
                                       rule):
    expect_refusal(_path(declared_case, stored["id"]), body, registrar, 422, field, rule, Storage)
    assert client.get(_path(declared_case), headers=registrar).json()["data"][0]["released_at"] is None


def test_releasing_an_unknown_storage_is_not_found(client, registrar, funeral_home, case_at, declared_case, stored,
                                                   expect_refusal):
    expect_refusal(_path(declared_case, uuid.uuid4()), _release(), registrar, 404, "storage_id", "exists", Storage)
    other_case = case_at(funeral_home, registrar, "declared")
    expect_refusal(_path(other_case, stored["id"]), _release(), registrar, 404, "storage_id", "exists", Storage)


def test_the_remains_are_in_one_cabinet_at_a_time(client, registrar, funeral_home, declared_case, stored,
                                                  expect_refusal):
    body = expect_refusal(_path(declared_case), _storage(funeral_home, cabinet_no="B-01"), registrar, 409, "case_id",
                          "already_stored", Storage)
    assert body["errors"][0]["existing_id"] == stored["id"]
    assert client.post(_path(declared_case, stored["id"]), json=_release(), headers=registrar).status_code == 200
    again = client.post(_path(declared_case), json=_storage(funeral_home, cabinet_no="B-01"), headers=registrar)
    assert again.status_code == 201, again.text


def test_a_cabinet_holds_one_body_at_a_time(client, registrar, funeral_home, case_at, declared_case, stored,
                                            expect_refusal):
    other = case_at(funeral_home, registrar, "declared")
    body = expect_refusal(_path(other), _storage(funeral_home), registrar, 409, "cabinet_no", "cabinet_occupied",
                          Storage)
    assert body["errors"][0]["existing_id"] == stored["id"]
    assert client.post(_path(declared_case, stored["id"]), json=_release(), headers=registrar).status_code == 200
    assert client.post(_path(other), json=_storage(funeral_home), headers=registrar).status_code == 201


def test_only_a_funeral_home_stores_remains(make_institution, registrar_of, case_at, expect_refusal):
    station = make_institution("service_station")
    headers = registrar_of(station)
    case = case_at(station, headers, "declared")
    expect_refusal(_path(case), _storage(station), headers, 422, "institution_id", "institution_type", Storage)


def test_an_unknown_institution_is_invalid_input(registrar, declared_case, expect_refusal):
    expect_refusal(_path(declared_case), _storage({"id": str(uuid.uuid4())}), registrar, 422, "institution_id",
                   "exists", Storage)


def test_a_registrar_stores_only_at_their_own_institution(make_institution, registrar, declared_case, expect_refusal):
    elsewhere = make_institution("funeral_home")
    expect_refusal(_path(declared_case), _storage(elsewhere), registrar, 403, "institution_id", "institution_binding",
                   Storage)


def test_storage_begins_after_death(funeral_home, registrar, declared_case, expect_refusal):
    before_death = datetime.fromisoformat(declared_case["death_at"]) - timedelta(minutes=1)
    expect_refusal(_path(declared_case), _storage(funeral_home, stored_at=before_death.isoformat()), registrar, 422,
                   "stored_at", "after_death", Storage)


@pytest.mark.parametrize("status, field, rule", [("closed", "status", "status_flow"),
                                                 ("archived", "case_id", "archived")])
def test_a_closed_or_archived_case_stores_nothing(funeral_home, registrar, case_at, expect_refusal, status, field,
                                                  rule):
    case = case_at(funeral_home, registrar, status)
    expect_refusal(_path(case), _storage(funeral_home), registrar, 409, field, rule, Storage)


def test_a_reviewer_cannot_store_or_release(reviewer, funeral_home, declared_case, stored, expect_refusal):
    expect_refusal(_path(declared_case), _storage(funeral_home, cabinet_no="C-1"), reviewer, 403, "authorization",
                   "permission", Storage)
    expect_refusal(_path(declared_case, stored["id"]), _release(), reviewer, 403, "authorization", "permission",
                   Storage)
