"""A province's scheduled sweeps (registry.sweeps): run at the service level with a clock they expire run-out
holds and escalate overdue complaints once, audited as the system; the Sweeper runs rounds in the background with
jitter, never two at once, and stops cleanly."""
import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from factories import booking_payload, create_institution, create_resource
from registry import sweeps
from registry.audit.models import AuditEntry
from registry.complaints import service as complaints
from registry.complaints.models import ComplaintCreate
from registry.db_types import utcnow
from registry.reservations.models import HOLD, Booking, BookingStatus
from registry.security.auth import Principal
from registry.security.permissions import Permission


def _metric(client, line_start: str) -> float | None:
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture
def pending(app, client, session, mint):
    """A citizen's booking held now (its hold runs out in HOLD) and a complaint filed in March 2026 (long overdue)."""
    admin = mint("provincial-admin", subject="admin-1")
    home = create_institution(client, admin, type="funeral_home")
    registrar = mint("registrar", institution_id=uuid.UUID(home["id"]), subject="registrar-fh")
    hall = create_resource(client, registrar, home["id"], name="思源厅", capacity=2)
    booked = client.post("/api/v1/my/bookings", json=booking_payload(hall["id"]),
                         headers=mint("citizen", subject="citizen-0001"))
    assert booked.status_code == 201, booked.text
    citizen = Principal(subject="citizen-0002", roles=frozenset({"citizen"}),
                        permissions=frozenset({Permission.services_apply}))
    filed = complaints.submit(session, ctx=app.state.ctx, principal=citizen, now=datetime(2026, 3, 2, 2, tzinfo=UTC),
                              data=ComplaintCreate(institution_id=uuid.UUID(home["id"]), category="pricing",
                                                   text="收费不透明，要求说明", contact="13800001234"))
    return uuid.UUID(booked.json()["id"]), filed.id


def test_a_round_sweeps_what_is_due_by_its_clock_once_audited_as_the_system(app, client, session, pending):
    booking_id, complaint_id = pending
    ctx = app.state.ctx

    early = sweeps.run_sweeps(ctx, now=utcnow())  # the hold still runs: only the complaint is overdue
    later = utcnow() + HOLD + timedelta(minutes=1)
    due = sweeps.run_sweeps(ctx, now=later)
    again = sweeps.run_sweeps(ctx, now=later)

    # the province's figures catch up last in a round: with the outbox so far, then with the expiry's event
    assert early == {"booking_expiry": 0, "complaint_escalation": 1, "own_figures": 5}
    assert due == {"booking_expiry": 1, "complaint_escalation": 0, "own_figures": 1}
    assert again == {"booking_expiry": 0, "complaint_escalation": 0, "own_figures": 0}
    session.rollback()
    assert session.get(Booking, booking_id).status == BookingStatus.expired
    actors = {entry.object_id: entry.actor for entry in session.exec(select(AuditEntry).where(
        AuditEntry.action.in_(["booking.expire", "complaint.escalated"])))}
    assert actors == {str(booking_id): "system:booking-expiry", str(complaint_id): "system:complaint-escalation"}
    assert _metric(client, 'fsp_sweep_items_total{sweep="booking_expiry"}') == 1
    assert _metric(client, 'fsp_sweep_items_total{sweep="complaint_escalation"}') == 1
    assert _metric(client, 'fsp_sweep_last_run_timestamp_seconds{sweep="booking_expiry"}') == pytest.approx(
        time.time(), abs=60)


def test_a_failing_sweep_is_counted_and_the_others_still_run(app, client, monkeypatch):
    def broken(session, ctx, now):
        raise RuntimeError("database hiccup")

    monkeypatch.setitem(sweeps.SWEEPS, "booking_expiry", broken)
    swept = sweeps.run_sweeps(app.state.ctx, now=utcnow())

    assert swept == {"complaint_escalation": 0, "own_figures": 0}
    assert _metric(client, 'fsp_sweep_failures_total{sweep="booking_expiry"}') == 1
    assert _metric(client, 'fsp_sweep_last_run_timestamp_seconds{sweep="booking_expiry"}') is None


def test_the_sweeper_runs_rounds_in_the_background_with_jitter_and_stops_cleanly(app, client, session, pending):
    booking_id, _ = pending
    clock = lambda: utcnow() + HOLD + timedelta(minutes=1)  # noqa: E731  (the hold has run out by this clock)
    sweeper = sweeps.Sweeper(app.state.ctx, interval=0.05, jitter=0.5, clock=clock, rng=random.Random(7))
    delays = sweeper._delays()
    first, *then = [next(delays) for _ in range(50)]
    assert 0 <= first <= 0.05 and all(0.025 <= d <= 0.075 for d in then) and len(set(then)) > 1

    sweeper.start()
    deadline = time.monotonic() + 10
    while _metric(client, 'fsp_sweep_last_run_timestamp_seconds{sweep="booking_expiry"}') is None:
        assert time.monotonic() < deadline, "no round ran"
        time.sleep(0.02)
    sweeper.close(timeout=5)

    assert not sweeper.running
    session.rollback()
    assert session.get(Booking, booking_id).status == BookingStatus.expired
    assert _metric(client, 'fsp_sweep_items_total{sweep="booking_expiry"}') == 1  # later rounds found nothing


def test_a_round_never_overlaps_one_under_way(app, monkeypatch):
    started, release = threading.Event(), threading.Event()
    rounds = []

    def slow(session, ctx, now):
        rounds.append(now)
        started.set()
        release.wait(5)
        return 0

    monkeypatch.setattr(sweeps, "SWEEPS", {"slow": slow})
    sweeper = sweeps.Sweeper(app.state.ctx, interval=3600)
    first = threading.Thread(target=sweeper.run_once)
    first.start()
    assert started.wait(5)
    overlapping = sweeper.run_once()
    release.set()
    first.join(5)

    assert overlapping is None and len(rounds) == 1
    assert sweeper.run_once() == {"slow": 0}  # the next round runs once the first is done


def test_an_interval_must_be_positive(app):
    with pytest.raises(ValueError):
        sweeps.Sweeper(app.state.ctx, interval=0)


def test_the_site_runs_the_provinces_sweeps_itself_when_asked(settings, client, mint):
    """As on Kubernetes (FSP_SWEEP_INTERVAL_SECONDS): the site's lifespan is the registry's, which runs the sweeps
    while it serves and stops them when it stops; without the setting (`fsp serve`, which runs them) it does not."""
    from portal.site import create_site

    create_institution(client, mint("provincial-admin"))  # one outbox event for the province's own figures
    site = create_site(settings.model_copy(update={"sweep_interval_seconds": 0.1}))
    admin = {"Authorization": "Bearer " + site.state.ctx.issuer.mint("admin-1", ["provincial-admin"])}
    with TestClient(site) as served:
        deadline = time.monotonic() + 10
        while served.get("/api/v1/national/own-figures", headers=admin).json()["applied_seq"] == 0:
            assert time.monotonic() < deadline, "the site ran no sweep"
            time.sleep(0.05)
    site.state.ctx.engine.dispose()
    quiet = create_site(settings)
    with TestClient(quiet) as served:
        time.sleep(0.3)
        assert _metric(served, "fsp_sweep_last_run_timestamp_seconds") is None
    quiet.state.ctx.engine.dispose()
