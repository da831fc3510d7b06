"""A funeral home with a farewell hall, its registrar, two citizens, and bookings made and confirmed."""

import pytest

from factories import booking_payload, create_resource, end_booking, slot_start


@pytest.fixture
def admin(mint):
    return mint("provincial-admin", subject="admin-1")


@pytest.fixture
def hall(client, registrar, funeral_home):
    return create_resource(client, registrar, funeral_home["id"], name="思源厅", capacity=5)


@pytest.fixture
def booked(client, registrar):
    """`booked(citizen, hall, confirmed=True, ended=True)` → a booking of the citizen, as far along as asked."""
    def _booked(citizen, hall, *, confirmed=True, ended=True, hour=9):
        made = client.post("/api/v1/my/bookings", json=booking_payload(hall["id"], starts_at=slot_start(hour=hour)),
                           headers=citizen)
        assert made.status_code == 201, made.text
        booking = made.json()
        if confirmed:
            answer = client.post(f"/api/v1/bookings/{booking['id']}/confirm", headers=registrar)
            assert answer.status_code == 200, answer.text
        if ended:
            end_booking(client.app.state.ctx.engine, booking["id"])
        return booking
    return _booked


@pytest.fixture
def completed(booked, citizen, hall):
    return booked(citizen, hall)
