"""No double booking under concurrency: racing clients through real HTTP, against two servers of one database
(as two processes would be), on SQLite and PostgreSQL. Exactly the free places are won; the others get a 409
in Chinese, and the slot's counter agrees with the live bookings."""
import threading
import uuid
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from factories import booking_payload, create_resource, slot_start
from kc_double.runner import BackgroundServer
from registry.reservations import slots
from registry.reservations.models import Booking, Slot

RACERS = 12


def race(work: Callable[[int], object], n: int = RACERS) -> list[object]:
    """`work(i)` in n threads started together; each result is what it returned or raised."""
    barrier, results = threading.Barrier(n), [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # the test inspects what each racer got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racer is stuck"
    return results


@pytest.fixture
def servers(app, settings):
    """Two servers of the same database, each with its own app (its own journal and pools), on loopback."""
    from registry.app import create_app

    second = create_app(settings)
    with BackgroundServer(app) as one, BackgroundServer(second) as two:
        yield one, two
    second.state.ctx.engine.dispose()


def live_in(session: Session, resource_id: str, starts_at: str) -> tuple[int, int]:
    """(live bookings, the slot's counter) of one slot, read fresh."""
    session.rollback()
    slot = session.exec(select(Slot).where(Slot.resource_id == uuid.UUID(resource_id))
                        .where(Slot.starts_at == _at(starts_at))).one()
    live = session.exec(select(func.count()).select_from(Booking).where(
        Booking.slot_id == slot.id, col(Booking.status).in_(["held", "confirmed"]))).one()
    return live, slot.taken


def _at(iso: str):
    from datetime import datetime
    return datetime.fromisoformat(iso)


def test_racing_clients_win_exactly_the_free_places(client, session, registrar, funeral_home, mint, servers):
    hall = create_resource(client, registrar, funeral_home["id"], capacity=5)
    for _ in range(2):  # 3 places left
        assert client.post("/api/v1/my/bookings", json=booking_payload(hall["id"]), headers=mint("citizen")).status_code == 201
    citizens = [mint("citizen", subject=f"citizen-{i:04d}") for i in range(RACERS)]

    def book(i: int) -> httpx.Response:
        with httpx.Client(base_url=servers[i % 2], timeout=60) as http:
            return http.post("/api/v1/my/bookings", json=booking_payload(hall["id"]), headers=citizens[i])

    answers = race(book)

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] * 3 + [409] * (RACERS - 3), [a.text for a in answers if a.status_code not in (201, 409)]
    refusal = next(answer.json() for answer in answers if answer.status_code == 409)
    assert refusal["errors"] == [{"field": "starts_at", "rule": "slot_full", "message": "该时段已约满，请选择其他时段。"}]
    assert live_in(session, hall["id"], slot_start()) == (5, 5)


def test_changes_racing_with_bookings_never_overbook_nor_lose_a_place(client, session, registrar, funeral_home, mint,
                                                                        servers):
    hall = create_resource(client, registrar, funeral_home["id"], capacity=RACERS)
    target = slot_start(hour=10)
    for _ in range(RACERS - 2):  # 2 places left at 10:00
        assert client.post("/api/v1/my/bookings", json=booking_payload(hall["id"], starts_at=target),
                           headers=mint("citizen")).status_code == 201
    citizens = [mint("citizen", subject=f"citizen-{i:04d}") for i in range(RACERS)]
    movers = {i: client.post("/api/v1/my/bookings", json=booking_payload(hall["id"]), headers=citizens[i]).json()["id"]
              for i in range(0, RACERS, 2)}

    def act(i: int) -> httpx.Response:
        with httpx.Client(base_url=servers[i % 2], timeout=60) as http:
            if i in movers:
                return http.post(f"/api/v1/my/bookings/{movers[i]}/change", json={"starts_at": target},
                                 headers=citizens[i])
            return http.post("/api/v1/my/bookings", json=booking_payload(hall["id"], starts_at=target),
                             headers=citizens[i])

    answers = race(act)

    won = [answer for answer in answers if answer.status_code in (200, 201)]
    assert len(won) == 2 and all(answer.status_code in (200, 201, 409) for answer in answers)
    assert live_in(session, hall["id"], target) == (RACERS, RACERS)
    moved = sum(1 for i in movers if answers[i].status_code == 200)
    assert live_in(session, hall["id"], slot_start()) == (len(movers) - moved, len(movers) - moved)
    for i in movers:  # a refused change left its booking where it was
        if answers[i].status_code == 409:
            assert client.get(f"/api/v1/my/bookings/{movers[i]}", headers=citizens[i]).json()["starts_at"] == slot_start()


def test_the_database_itself_refuses_a_place_past_the_capacity(app, client, session, registrar, funeral_home, mint):
    hall = create_resource(client, registrar, funeral_home["id"], capacity=2)
    client.post("/api/v1/my/bookings", json=booking_payload(hall["id"]), headers=mint("citizen"))
    session.rollback()
    slot = session.exec(select(Slot)).one()
    engine = app.state.ctx.engine

    def take(_: int) -> str:  # the guard alone, no unit of write around it
        with Session(engine) as racer:
            slots.take(racer, slot)
            racer.commit()
            return "took"

    results = race(take, n=6)

    assert results.count("took") == 1 and all(r == "took" or getattr(r, "problems", None) for r in results)
    session.rollback()
    assert session.get(Slot, slot.id).taken == 2
    with pytest.raises(IntegrityError):
        session.execute(Slot.__table__.update().where(Slot.__table__.c.id == slot.id).values(taken=3))
        session.commit()
    session.rollback()
