"""Finding cases: by name, death date range (China Standard Time), institution and status; unknown filters are
refused; lists report the total; ID numbers only in a body, and their lookups audited."""
import json
import uuid
from datetime import UTC, datetime

import pytest

from assertions import assert_problem, last_audit
from factories import case_payload, create_institution


@pytest.fixture
def world(client, mint):
    admin = mint("provincial-admin")
    homes = [create_institution(client, admin) for _ in range(2)]
    registrars = [mint("registrar", institution_id=uuid.UUID(h["id"]), subject=f"reg-{i}")
                  for i, h in enumerate(homes)]
    # deaths at 23:30 China time on 1-5 March: in UTC the previous day, 15:30
    cases = []
    for day in range(1, 6):
        death = datetime(2026, 3, day, 15, 30, tzinfo=UTC)
        payload = case_payload(homes[day % 2]["id"], death_at=death.isoformat(),
                               deceased_name="李四" if day == 3 else f"王{day}")
        response = client.post("/api/v1/cases", json=payload, headers=registrars[day % 2])
        assert response.status_code == 201, response.text
        cases.append((payload, response.json()))
    return admin, homes, registrars, cases


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["data"]]


def test_filters_narrow_and_combine(client, world):
    admin, homes, _, cases = world
    by_name = client.get("/api/v1/cases", params={"deceased_name": "李四"}, headers=admin)
    assert _ids(by_name) == [cases[2][1]["id"]]
    # 2 and 3 March as people in China count days: the deaths stored as 1 and 2 March 15:30 UTC
    in_range = client.get("/api/v1/cases", params={"died_from": "2026-03-02", "died_to": "2026-03-03"},
                          headers=admin)
    assert set(_ids(in_range)) == {cases[1][1]["id"], cases[2][1]["id"]}
    of_home = client.get("/api/v1/cases", params={"institution_id": homes[1]["id"], "status": "declared"},
                         headers=admin)
    assert set(_ids(of_home)) == {c["id"] for p, c in cases if p["institution_id"] == homes[1]["id"]}
    assert _ids(client.get("/api/v1/cases", params={"status": "registered"}, headers=admin)) == []


def test_count_is_the_total_not_the_page(client, world):
    admin = world[0]
    page = client.get("/api/v1/cases", params={"limit": 2, "offset": 1}, headers=admin).json()
    assert len(page["data"]) == 2 and page["count"] == 5


@pytest.mark.parametrize("params", [{"statuss": "declared"}, {"id_number": "110105194912310021"},
                                    {"name": "李四"}])
def test_unknown_filters_are_refused_not_ignored(client, world, params):
    response = client.get("/api/v1/cases", params=params, headers=world[0])
    assert_problem(response, 422, next(iter(params)), "extra_forbidden")


def test_a_reversed_date_range_is_refused(client, world):
    response = client.get("/api/v1/cases", params={"died_from": "2026-03-05", "died_to": "2026-03-01"},
                          headers=world[0])
    assert_problem(response, 422, "died_to", "date_order")


def test_id_number_lookup_is_in_the_body_scoped_and_audited(client, session, world):
    _, _, registrars, cases = world
    payload, created = cases[2]
    own = registrars[3 % 2]
    found = client.post("/api/v1/cases/search", json={"id_number": payload["id_number"]}, headers=own)
    assert _ids(found) == [created["id"]] and found.json()["count"] == 1
    entry = last_audit(session)
    assert (entry.action, entry.actor, json.loads(entry.detail)) == ("case.lookup_id_number", "reg-1", {"found": 1})
    assert payload["id_number"] not in entry.detail
    session.rollback()
    other = client.post("/api/v1/cases/search", json={"id_number": payload["id_number"]}, headers=registrars[0])
    assert _ids(other) == [] and other.json()["count"] == 0  # another institution's case is not found


def test_search_body_refuses_unknown_fields(client, world):
    response = client.post("/api/v1/cases/search", json={"id_numbr": "x"}, headers=world[0])
    assert_problem(response, 422, "id_numbr", "extra_forbidden")
