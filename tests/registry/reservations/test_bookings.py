"""Citizens book, change and cancel their own bookings; staff confirm; holds run out and give their place back."""
import json
import uuid

from sqlmodel import select

from assertions import assert_problem, assert_refused_and_nothing_written, last_audit, last_event, snapshot
from factories import booking_payload, create_institution, end_booking, slot_start
from registry import query_codes
from registry.outbox.models import OutboxEvent
from registry.reservations import service
from registry.reservations.models import Booking, Slot


def book(client, citizen, hall, **overrides):
    return client.post("/api/v1/my/bookings", json=booking_payload(hall["id"], **overrides), headers=citizen)


def free_at(client, hall, starts_at):
    day = starts_at[:10]
    slots = client.get(f"/api/v1/resources/{hall['id']}/slots", params={"on": day}).json()["data"]
    return {slot["starts_at"]: slot["free"] for slot in slots}[starts_at]



def test_a_citizen_holds_a_place_with_a_query_code_shown_once(client, session, citizen, hall):
    before = free_at(client, hall, slot_start())

    made = book(client, citizen, hall)

    assert made.status_code == 201, made.text
    booking = made.json()
    assert booking["status"] == "held" and booking["hold_until"] is not None
    assert booking["for_name"] == "张**" and booking["for_phone"] == "138****5678"
    assert query_codes.well_formed(booking["query_code"])
    assert (before, free_at(client, hall, slot_start())) == (2, 1)
    assert "query_code" not in client.get(f"/api/v1/my/bookings/{booking['id']}", headers=citizen).json()
    stored = session.get(Booking, uuid.UUID(booking["id"]))
    assert "张三丰" not in stored.for_name_enc and "13812345678" not in stored.for_phone_enc
    event = last_event(session)
    assert event.event_type == "booking.held"
    assert set(json.loads(event.payload)) == {"booking_id", "institution_id", "resource_id", "resource_kind", "status",
                                              "starts_at", "hold_until"}  # no one's name or phone
    status = service.status_by_code(session, query_codes.digest(booking["query_code"]))
    assert (status.kind, status.number, status.status) == ("booking", booking["number"], "held")


def test_another_citizens_booking_is_not_found(client, citizen, other_citizen, hall):
    booking = book(client, citizen, hall).json()

    for method, path, body in [("GET", f"/api/v1/my/bookings/{booking['id']}", None),
                               ("POST", f"/api/v1/my/bookings/{booking['id']}/cancel", {}),
                               ("POST", f"/api/v1/my/bookings/{booking['id']}/change", {"starts_at": slot_start(hour=10)})]:
        response = client.request(method, path, json=body, headers=other_citizen)
        assert_problem(response, 404, "booking_id", "exists")
    assert client.get("/api/v1/my/bookings", headers=other_citizen).json()["count"] == 0


def test_a_full_slot_is_refused_with_409_and_nothing_written(client, session, citizen, hall):
    book(client, citizen, hall)
    book(client, citizen, hall)
    before = snapshot(session, Booking)

    refused = book(client, citizen, hall)

    body = assert_problem(refused, 409, "starts_at", "slot_full")
    assert body["errors"][0]["message"] == "该时段已约满，请选择其他时段。"
    assert_refused_and_nothing_written(session, before, Booking)


def test_a_change_moves_the_place_and_a_full_target_leaves_the_booking_where_it_was(client, session, citizen, hall):
    mine = book(client, citizen, hall).json()
    book(client, citizen, hall, starts_at=slot_start(hour=11))
    book(client, citizen, hall, starts_at=slot_start(hour=11))

    moved = client.post(f"/api/v1/my/bookings/{mine['id']}/change", json={"starts_at": slot_start(hour=10)},
                        headers=citizen)
    refused = client.post(f"/api/v1/my/bookings/{mine['id']}/change", json={"starts_at": slot_start(hour=11)},
                          headers=citizen)

    assert moved.status_code == 200, moved.text
    assert moved.json()["starts_at"] == slot_start(hour=10)
    assert_problem(refused, 409, "starts_at", "slot_full")
    assert client.get(f"/api/v1/my/bookings/{mine['id']}", headers=citizen).json()["starts_at"] == slot_start(hour=10)
    assert (free_at(client, hall, slot_start()), free_at(client, hall, slot_start(hour=10))) == (2, 1)
    assert free_at(client, hall, slot_start(hour=11)) == 0
    assert last_event(session).event_type == "booking.changed"


def test_cancelling_gives_the_place_back_once(client, session, citizen, hall):
    mine = book(client, citizen, hall).json()

    cancelled = client.post(f"/api/v1/my/bookings/{mine['id']}/cancel", json={"reason": "家中另有安排"}, headers=citizen)
    again = client.post(f"/api/v1/my/bookings/{mine['id']}/cancel", json={}, headers=citizen)

    assert cancelled.json()["status"] == "cancelled"
    assert_problem(again, 409, "booking_id", "booking_status")
    assert free_at(client, hall, slot_start()) == 2
    session.rollback()
    assert session.exec(select(Slot)).one().taken == 0
    assert json.loads(last_event(session).payload)["cancelled_by"] == "owner"


def test_a_booking_whose_time_has_come_is_neither_changed_nor_cancelled_by_its_citizen(client, session, citizen,
                                                                                       registrar, hall):
    mine = book(client, citizen, hall).json()
    assert client.post(f"/api/v1/bookings/{mine['id']}/confirm", headers=registrar).status_code == 200
    end_booking(client.app.state.ctx.engine, mine["id"])
    before = snapshot(session, Booking, Slot)

    changed = client.post(f"/api/v1/my/bookings/{mine['id']}/change", json={"starts_at": slot_start(hour=10)},
                          headers=citizen)
    cancelled = client.post(f"/api/v1/my/bookings/{mine['id']}/cancel", json={"reason": "不去了"}, headers=citizen)

    body = assert_problem(changed, 409, "booking_id", "booking_started")
    assert body["errors"][0]["message"] == "该预约的时段已经开始或已过去，不能再变更或取消。"
    assert_problem(cancelled, 409, "booking_id", "booking_started")
    assert client.get(f"/api/v1/my/bookings/{mine['id']}", headers=citizen).json()["status"] == "confirmed"
    assert snapshot(session, Booking, Slot)[OutboxEvent] == before[OutboxEvent]


def test_staff_confirm_and_cancel_only_their_institutions_bookings(client, session, mint, citizen, registrar, hall, admin):
    other_registrar = mint("registrar", institution_id=uuid.UUID(
        create_institution(client, admin)["id"]), subject="registrar-other")
    first, second = book(client, citizen, hall).json(), book(client, citizen, hall).json()

    confirmed = client.post(f"/api/v1/bookings/{first['id']}/confirm", headers=registrar)
    confirmer = last_audit(session).actor
    elsewhere = client.post(f"/api/v1/bookings/{second['id']}/confirm", headers=other_registrar)
    cancelled = client.post(f"/api/v1/bookings/{second['id']}/cancel", json={"reason": "告别厅检修"}, headers=registrar)
    by_citizen = client.post(f"/api/v1/bookings/{first['id']}/confirm", headers=citizen)

    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["hold_until"] is None
    assert confirmer == "registrar-fh" and last_event(session).event_type == "booking.cancelled"
    assert_problem(elsewhere, 403, "booking_id", "institution_binding")
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["cancel_reason"] == "告别厅检修"
    assert_problem(by_citizen, 403, "authorization", "permission")
    day = client.get(f"/api/v1/institutions/{hall['institution_id']}/bookings", params={"on": slot_start()[:10]},
                     headers=registrar).json()
    assert [(b["status"], b["for_name"]) for b in day["data"]] == [("confirmed", "张**"), ("cancelled", "张**")]
    assert (last_audit(session).actor, last_audit(session).result) == ("citizen-0001", "refused")


def test_a_hold_that_ran_out_frees_its_place_without_a_sweep_and_the_sweep_is_idempotent(
        client, session, citizen, registrar, hall):
    first, second = book(client, citizen, hall).json(), book(client, citizen, hall).json()
    session.rollback()
    stored = session.get(Booking, uuid.UUID(first["id"]))
    stored.hold_until = stored.created_at  # ran out
    session.add(stored)
    session.commit()

    shown = client.get(f"/api/v1/my/bookings/{first['id']}", headers=citizen).json()
    third = book(client, citizen, hall)
    late_confirm = client.post(f"/api/v1/bookings/{first['id']}/confirm", headers=registrar)
    sweeps = [client.post("/api/v1/bookings/expiry-sweeps", headers=registrar).json() for _ in range(2)]

    assert shown["status"] == "expired" and free_at(client, hall, slot_start()) == 0
    assert third.status_code == 201, third.text  # the run-out hold's place went to the new booking
    assert_problem(late_confirm, 409, "booking_id", "booking_status")
    assert sweeps == [{"expired": 0}, {"expired": 0}]  # the booking already marked it
    session.rollback()
    assert session.get(Booking, stored.id).status == "expired"
    assert session.exec(select(Slot)).one().taken == 2
    assert second["status"] == "held"


def test_the_sweep_marks_run_out_holds_once(client, session, citizen, registrar, hall):
    made = book(client, citizen, hall).json()
    session.rollback()
    stored = session.get(Booking, uuid.UUID(made["id"]))
    stored.hold_until = stored.created_at
    session.add(stored)
    session.commit()

    sweeps = [client.post("/api/v1/bookings/expiry-sweeps", headers=registrar).json() for _ in range(2)]

    assert sweeps == [{"expired": 1}, {"expired": 0}]
    assert last_event(session).event_type == "booking.expired"
    session.rollback()
    assert session.exec(select(Slot)).one().taken == 0


def test_bad_starts_are_refused_in_chinese(client, session, citizen, hall):
    cases = [(slot_start(days=-1), "slot_future"), (slot_start(days=31), "booking_window"),
             (slot_start(hour=9)[:14] + "30:00+08:00", "slot_start"), (slot_start(hour=17), "slot_start")]
    for starts_at, rule in cases:
        body = assert_problem(book(client, citizen, hall, starts_at=starts_at), 422, "starts_at", rule)
        assert all("\u4e00" <= ch <= "\u9fff" for ch in body["errors"][0]["message"][:2])
    assert_problem(book(client, citizen, hall, for_phone="call me"), 422, "for_phone", "string_pattern_mismatch")
    session.rollback()
    assert session.exec(select(Booking)).all() == []


def test_metrics_count_bookings_by_status_and_kind(client, session, citizen, registrar, hall):
    first, second = book(client, citizen, hall).json(), book(client, citizen, hall).json()
    client.post(f"/api/v1/bookings/{first['id']}/confirm", headers=registrar)
    session.rollback()
    stored = session.get(Booking, uuid.UUID(second["id"]))
    stored.hold_until = stored.created_at  # ran out, not yet swept
    session.add(stored)
    session.commit()

    metrics = client.get("/metrics").text

    assert 'fsp_bookings{kind="farewell_hall",status="confirmed"} 1.0' in metrics
    assert 'fsp_bookings{kind="farewell_hall",status="expired"} 1.0' in metrics
    assert 'status="held"' not in metrics


def test_a_suspended_institution_takes_no_bookings(client, session, admin, citizen, hall):
    client.patch(f"/api/v1/institutions/{hall['institution_id']}", json={"status": "suspended"}, headers=admin)
    before = snapshot(session, Booking)

    refused = book(client, citizen, hall)

    assert_problem(refused, 409, "resource_id", "institution_active")
    assert_refused_and_nothing_written(session, before, Booking)
