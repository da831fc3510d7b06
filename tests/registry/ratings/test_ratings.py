"""The family rates a completed service once, 1 to 5 with a comment; staff read their institution's ratings."""
import json
import uuid

from sqlmodel import select

from assertions import assert_problem, assert_refused_and_nothing_written, last_audit, last_event, snapshot
from factories import create_institution, create_resource, end_booking
from registry.ratings.models import Rating


def rate(client, headers, booking, **body):
    return client.post(f"/api/v1/my/bookings/{booking['id']}/rating", json={"score": 5, **body}, headers=headers)


def test_the_owner_rates_a_completed_booking_its_comment_encrypted_and_the_event_without_personal_data(
        client, session, citizen, completed, funeral_home):
    answer = rate(client, citizen, completed, score=4, comment="工作人员很耐心，张三丰家属致谢")

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["score"], body["comment"], body["comment_status"], body["service_kind"]) == (
        4, "工作人员很耐心，张三丰家属致谢", "published", "farewell_hall")
    session.rollback()
    stored = session.get(Rating, uuid.UUID(body["id"]))
    assert "张三丰" not in stored.comment_encrypted and "耐心" not in stored.comment_encrypted
    event = last_event(session)
    assert event.event_type == "rating.submitted"
    assert json.loads(event.payload) == {"rating_id": body["id"], "institution_id": funeral_home["id"],
                                         "service_kind": "farewell_hall", "score": 4}
    assert last_audit(session).action == "rating.submitted"
    assert client.get("/api/v1/my/ratings", headers=citizen).json()["data"][0]["id"] == body["id"]


def test_a_service_is_rated_once_a_second_rating_is_409_in_chinese(client, session, citizen, completed):
    assert rate(client, citizen, completed).status_code == 201
    before = snapshot(session, Rating)

    again = rate(client, citizen, completed, score=1)

    body = assert_problem(again, 409, "booking_id", "already_rated")
    assert body["errors"][0]["message"] == "该服务已评价过，每项服务只能评价一次。"
    assert_refused_and_nothing_written(session, before, Rating)


def test_only_a_confirmed_booking_whose_slot_has_ended_can_be_rated(client, session, citizen, hall, booked):
    not_confirmed = booked(citizen, hall, confirmed=False, ended=False, hour=10)
    not_ended = booked(citizen, hall, ended=False, hour=11)
    cancelled = booked(citizen, hall, ended=False, hour=14)
    client.post(f"/api/v1/my/bookings/{cancelled['id']}/cancel", json={}, headers=citizen)
    end_booking(client.app.state.ctx.engine, cancelled["id"])
    before = snapshot(session, Rating)

    for booking in (not_confirmed, not_ended, cancelled):
        assert_problem(rate(client, citizen, booking), 422, "booking_id", "service_not_completed")
    session.rollback()
    assert session.exec(select(Rating)).all() == [] and before[Rating] == 0


def test_another_citizens_booking_is_not_found(client, session, other_citizen, completed):
    before = snapshot(session, Rating)

    refused = rate(client, other_citizen, completed)

    assert_problem(refused, 404, "booking_id", "exists")
    assert_refused_and_nothing_written(session, before, Rating)
    assert_problem(client.post(f"/api/v1/my/bookings/{uuid.uuid4()}/rating", json={"score": 3}, headers=other_citizen),
                   404, "booking_id", "exists")


def test_a_comment_with_a_listed_word_is_held_and_published_only_after_review(client, session, citizen, completed, admin):
    held = rate(client, citizen, completed, score=2, comment="想 加 微 信 聊聊")

    assert held.status_code == 201, held.text
    assert held.json()["comment_status"] == "held"
    listed = client.get("/api/v1/ratings", params={"held": "true"}, headers=admin).json()
    assert [r["id"] for r in listed["data"]] == [held.json()["id"]] and listed["data"][0]["flagged"] == "加微信"
    approved = client.post(f"/api/v1/ratings/{held.json()['id']}/review", json={"decision": "approve"}, headers=admin)
    assert approved.json()["comment_status"] == "published"
    assert_problem(client.post(f"/api/v1/ratings/{held.json()['id']}/review", json={"decision": "reject"}, headers=admin),
                   409, "decision", "comment_not_held")


def test_bad_input_is_refused_field_by_field(client, session, citizen, completed):
    before = snapshot(session, Rating)
    for body, field, rule in [({"score": 0}, "score", "greater_than_equal"), ({"score": 6}, "score", "less_than_equal"),
                              ({"score": "5"}, "score", "int_type"), ({"score": 3, "extra": 1}, "extra", "extra_forbidden"),
                              ({"score": 3, "comment": "x" * 501}, "comment", "string_too_long"),
                              ({"comment": "好"}, "score", "missing")]:
        assert_problem(client.post(f"/api/v1/my/bookings/{completed['id']}/rating", json=body, headers=citizen),
                       422, field, rule)
    session.rollback()
    assert session.exec(select(Rating)).all() == [] and before[Rating] == 0


def test_staff_see_their_institutions_ratings_and_the_province_all(client, mint, admin, registrar, citizen, other_citizen,
                                                                   hall, booked):
    other_home = create_institution(client, admin, type="funeral_home")
    other_registrar = mint("registrar", institution_id=uuid.UUID(other_home["id"]), subject="registrar-2")
    other_hall = create_resource(client, other_registrar, other_home["id"], name="怀远厅")
    made = client.post("/api/v1/my/bookings", json={"resource_id": other_hall["id"], **_slot()}, headers=other_citizen)
    client.post(f"/api/v1/bookings/{made.json()['id']}/confirm", headers=other_registrar)
    end_booking(client.app.state.ctx.engine, made.json()["id"])
    mine = rate(client, citizen, booked(citizen, hall), score=5).json()
    theirs = rate(client, other_citizen, made.json(), score=1).json()

    own = client.get("/api/v1/ratings", headers=registrar).json()
    everything = client.get("/api/v1/ratings", headers=admin).json()

    assert [r["id"] for r in own["data"]] == [mine["id"]] and own["data"][0]["booking_number"]
    assert {r["id"] for r in everything["data"]} == {mine["id"], theirs["id"]} and everything["count"] == 2
    assert client.get("/api/v1/ratings", headers=citizen).status_code == 403


def _slot():
    from factories import slot_start
    return {"starts_at": slot_start(hour=15), "for_name": "李四", "for_phone": "13900001111"}
