"""Remote farewell: the owner of a farewell-hall booking sets the video link and invites relatives; each invitee
opens the session with their own code; the link is shown to no one else."""
import json
from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from assertions import assert_problem, count, last_event
from factories import booking_payload, create_resource, slot_start
from registry.reservations.farewell import FarewellInvitation, RemoteFarewell

LINK = "https://meeting.example.cn/j/8812345?pwd=abc"


def remote(starts_at: str | None = None, **overrides) -> dict:
    start = datetime.fromisoformat(starts_at or slot_start())
    body = {"join_link": LINK, "starts_at": start.isoformat(), "ends_at": (start + timedelta(minutes=45)).isoformat(),
            "invitees": [{"name": "李四", "phone": "13900001111"}, {"name": "王五", "phone": "13700002222"}]}
    body.update(overrides)
    return body


@pytest.fixture
def booking(client, citizen, hall):
    return client.post("/api/v1/my/bookings", json=booking_payload(hall["id"]), headers=citizen).json()


def test_the_owner_makes_a_farewell_remote_and_each_invitee_joins_with_their_code(client, session, citizen, booking):
    path = f"/api/v1/my/bookings/{booking['id']}/remote-farewell"

    made = client.put(path, json=remote(), headers=citizen)

    assert made.status_code == 200, made.text
    invitees = made.json()["invitees"]
    assert [(i["name"], i["phone"]) for i in invitees] == [("李**", "139****1111"), ("王**", "137****2222")]
    codes = [invitee["invitation_code"] for invitee in invitees]
    assert len(set(codes)) == 2
    for code in codes:
        joined = client.post("/api/v1/remote-farewell-joins", json={"invitation_code": code.lower()})
        assert joined.status_code == 200 and joined.json()["join_link"] == LINK and joined.json()["hall"] == "思源厅"
    shown = client.get(path, headers=citizen).json()
    assert shown["join_link"] == LINK and all(i["invitation_code"] is None for i in shown["invitees"])
    assert client.get(f"/api/v1/my/bookings/{booking['id']}", headers=citizen).json()["remote"] is True
    session.rollback()
    stored = session.exec(select(RemoteFarewell)).one()
    assert LINK not in stored.join_link_enc
    assert all("李四" not in row.name_enc for row in session.exec(select(FarewellInvitation)))
    event = last_event(session)
    assert event.event_type == "farewell.remote_set"
    payload = json.loads(event.payload)
    assert payload["invitees"] == 2 and "join_link" not in payload and LINK not in event.payload


def test_the_link_is_hidden_from_others_and_wrong_codes(client, citizen, other_citizen, booking):
    path = f"/api/v1/my/bookings/{booking['id']}/remote-farewell"
    client.put(path, json=remote(), headers=citizen)

    assert_problem(client.get(path, headers=other_citizen), 404, "booking_id", "exists")
    assert_problem(client.put(path, json=remote(), headers=other_citizen), 404, "booking_id", "exists")
    wrong = client.post("/api/v1/remote-farewell-joins", json={"invitation_code": "AAAA-BBBB-CCCC"})
    body = assert_problem(wrong, 404, "invitation_code", "farewell_invitation")
    assert LINK not in wrong.text and body["errors"][0]["message"] == "邀请码不正确，或该远程告别已取消。"


def test_setting_again_replaces_the_invitations_and_a_cancelled_booking_opens_nothing(client, citizen, booking):
    path = f"/api/v1/my/bookings/{booking['id']}/remote-farewell"
    first = client.put(path, json=remote(), headers=citizen).json()["invitees"][0]["invitation_code"]
    second = client.put(path, json=remote(), headers=citizen).json()["invitees"][0]["invitation_code"]

    old = client.post("/api/v1/remote-farewell-joins", json={"invitation_code": first})
    client.post(f"/api/v1/my/bookings/{booking['id']}/cancel", json={}, headers=citizen)
    after_cancel = client.post("/api/v1/remote-farewell-joins", json={"invitation_code": second})

    assert old.status_code == 404 and after_cancel.status_code == 404


def test_wrong_codes_are_limited_per_client(app, client):
    app.state.ctx.query_attempts.max_failures = 3

    answers = [client.post("/api/v1/remote-farewell-joins", json={"invitation_code": "AAAA-BBBB-CCC2"}).status_code
               for _ in range(4)]

    assert answers == [404, 404, 429, 429]


@pytest.mark.parametrize(("change", "field", "rule"), [
    ({"join_link": "http://meeting.example.cn/j/1"}, "join_link", "https_link"),
    ({"join_link": "https://user:pw@meeting.example.cn/j/1"}, "join_link", "https_link"),
    ({"join_link": "javascript:alert(1)"}, "join_link", "https_link"),
    ({"invitees": []}, "invitees", "too_short"),
    ({"ends_at": slot_start(hour=8)}, "ends_at", "date_order"),
    ({"invitees": [{"name": "李四", "phone": "abc"}]}, "invitees.0.phone", "string_pattern_mismatch"),
])
def test_bad_remote_farewells_are_refused_and_nothing_written(client, session, citizen, booking, change, field, rule):
    assert_problem(client.put(f"/api/v1/my/bookings/{booking['id']}/remote-farewell", json=remote(**change),
                              headers=citizen), 422, field, rule)
    assert count(session, RemoteFarewell) == 0


def test_only_a_farewell_hall_in_its_own_time_can_be_remote(client, citizen, registrar, funeral_home, booking):
    vehicle = create_resource(client, registrar, funeral_home["id"], kind="vehicle", name="灵车一号")
    ride = client.post("/api/v1/my/bookings", json=booking_payload(vehicle["id"]), headers=citizen).json()

    not_a_hall = client.put(f"/api/v1/my/bookings/{ride['id']}/remote-farewell", json=remote(), headers=citizen)
    other_day = client.put(f"/api/v1/my/bookings/{booking['id']}/remote-farewell", json=remote(slot_start(days=2)),
                           headers=citizen)

    assert_problem(not_a_hall, 409, "booking_id", "farewell_hall_only")
    assert_problem(other_day, 422, "starts_at", "farewell_time")
