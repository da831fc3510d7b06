"""Auditors narrow the trail by actor, action, object, result and China-time day, and page it newest first."""
from datetime import datetime, timedelta

from factories import create_institution
from registry.db_types import CHINA_TZ

AUDIT = "/api/v1/audit"


def entries(client, auditor, **params) -> list[dict]:
    response = client.get(AUDIT, params=params, headers=auditor)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def test_the_trail_is_narrowed_by_actor_action_object_and_result(client, mint):
    made = [create_institution(client, mint("provincial-admin", subject=f"admin-{n}")) for n in range(3)]
    client.post("/api/v1/institutions", json={"name": "x"}, headers=mint("provincial-admin", subject="admin-1"))
    auditor = mint("auditor")

    assert [e["object_id"] for e in entries(client, auditor, actor="admin-1")] == [made[1]["id"], "422"]
    assert [e["actor"] for e in entries(client, auditor, action="institution.create")] == ["admin-0", "admin-1",
                                                                                          "admin-2"]
    assert [e["actor"] for e in entries(client, auditor, object_type="institution", object_id=made[2]["id"])] == [
        "admin-2"]
    assert [e["actor"] for e in entries(client, auditor, actor="admin-1", result="refused")] == ["admin-1"]


def test_newest_first_pages_backwards_from_a_sequence_number(client, mint):
    admin = mint("provincial-admin")
    for _ in range(5):
        create_institution(client, admin)
    auditor = mint("auditor")

    assert [e["seq"] for e in entries(client, auditor, newest_first="true", limit=2)] == [5, 4]
    assert [e["seq"] for e in entries(client, auditor, newest_first="true", before=4, limit=2)] == [3, 2]
    assert [e["seq"] for e in entries(client, auditor, after=3)] == [4, 5]  # chain order, as before


def test_a_day_range_is_read_in_china_time(client, mint):
    create_institution(client, mint("provincial-admin"))
    auditor = mint("auditor")
    today = datetime.now(CHINA_TZ).date()
    assert len(entries(client, auditor, at_from=today.isoformat(), at_to=today.isoformat())) == 1
    assert entries(client, auditor, at_from=(today + timedelta(days=1)).isoformat()) == []
    assert entries(client, auditor, at_to=(today - timedelta(days=1)).isoformat()) == []


def test_bad_filters_are_refused_by_field_in_chinese(client, mint):
    auditor = mint("auditor")
    swapped = client.get(AUDIT, params={"at_from": "2026-03-02", "at_to": "2026-03-01"}, headers=auditor)
    assert swapped.status_code == 422
    problem = swapped.json()["errors"][0]
    assert (problem["field"], problem["rule"]) == ("at_to", "date_order") and "日期（止）" in problem["message"]
    no_day = client.get(AUDIT, params={"at_from": "2026-02-30", "result": "maybe"}, headers=auditor).json()
    assert {p["field"] for p in no_day["errors"]} == {"at_from", "result"}
