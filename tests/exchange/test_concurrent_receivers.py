"""Receivers of different provinces store their batches side by side (PostgreSQL): each province's own claim keeps
its batches in order, and only the pairing of people across provinces waits for the write head, so one
province's large batch holds up no other, and no pair is missed when two provinces send the same person at once."""
import threading
import uuid

import pytest
from sqlmodel import Session, select

from national_events import batch, case
from registry.audit import service as audit
from registry.exchange import service as exchange
from registry.exchange.models import ExchangeCursor
from registry.journal import Journal
from registry.national import projection
from registry.national.models import PersonMatch

pytestmark = pytest.mark.postgresql_only


@pytest.fixture
def journal(ministry_settings, ministry_session) -> Journal:
    return Journal.of(ministry_session.get_bind(), keys_dir=ministry_settings.keys_dir,
                      checkpoint_file=ministry_settings.audit_checkpoint_path)


def _receive_in_thread(journal: Journal, province: str, case_id: uuid.UUID, results: dict) -> threading.Thread:
    def run():
        with Session(journal.engine) as session:
            results[province] = exchange.receive_batch(
                session, batch(province, 1, [("case.declared", case_id, case(case_id))]), journal=journal)
    thread = threading.Thread(target=run, name=f"receive-{province}")
    thread.start()
    return thread


def _paused_after_pairing(monkeypatch, province: str) -> tuple[threading.Event, threading.Event]:
    """`province`'s receiver stops once it has paired its people, before it commits: (reached, release)."""
    reached, release = threading.Event(), threading.Event()
    original = projection._match

    def paused(session, matched, now):
        original(session, matched, now)
        if any(record.province_slug == province for record in matched):
            reached.set()
            assert release.wait(10)
    monkeypatch.setattr(projection, "_match", paused)
    return reached, release


def test_a_province_is_not_held_up_by_another_provinces_batch(journal, ministry_session, monkeypatch):
    reached, release = threading.Event(), threading.Event()
    monkeypatch.setattr(projection, "online_services", _PausedFor("beijing", projection.online_services, reached,
                                                                  release))
    results: dict = {}
    beijing = _receive_in_thread(journal, "beijing", uuid.uuid4(), results)
    assert reached.wait(10)  # beijing's cases are written, its transaction open

    shandong = _receive_in_thread(journal, "shandong", uuid.uuid4(), results)
    shandong.join(10)
    finished_first = "shandong" in results
    release.set()
    beijing.join(10)

    assert finished_first, "shandong's batch waited for beijing's"
    assert results == {"beijing": (1, 1, 1), "shandong": (1, 1, 1)}
    ministry_session.rollback()
    assert {c.province_slug: c.acknowledged_seq for c in ministry_session.exec(select(ExchangeCursor))} == {
        "beijing": 1, "shandong": 1}
    assert audit.verify(ministry_session, anchor=journal.anchor).ok


def test_the_same_person_sent_by_two_provinces_at_once_is_paired_once(journal, ministry_session, monkeypatch):
    reached, release = _paused_after_pairing(monkeypatch, "beijing")
    results: dict = {}
    beijing_case, shandong_case = uuid.uuid4(), uuid.uuid4()
    beijing = _receive_in_thread(journal, "beijing", beijing_case, results)
    assert reached.wait(10)  # beijing paired its person (nobody else had them yet) and holds the write head

    shandong = _receive_in_thread(journal, "shandong", shandong_case, results)
    shandong.join(0.5)
    waited = shandong.is_alive()  # shandong's pairing waits for beijing's commit
    release.set()
    beijing.join(10)
    shandong.join(10)

    assert waited and results == {"beijing": (1, 1, 1), "shandong": (1, 1, 1)}
    ministry_session.rollback()
    pairs = ministry_session.exec(select(PersonMatch)).all()
    assert [(p.province_a, p.case_a, p.province_b, p.case_b) for p in pairs] == [
        ("beijing", beijing_case, "shandong", shandong_case)]


class _PausedFor:
    """`online_services` whose `apply` pauses for one province: the projection calls it once the province's records
    and counters are written, before it pairs people across provinces."""

    def __init__(self, province: str, module, reached: threading.Event, release: threading.Event):
        self._province, self._module, self._reached, self._release = province, module, reached, release

    def apply(self, session, *, province, **kwargs):
        if province == self._province:
            self._reached.set()
            assert self._release.wait(10)
        return self._module.apply(session, province=province, **kwargs)
