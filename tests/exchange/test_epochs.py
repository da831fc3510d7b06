"""The ministry receives a province's outbox in epochs, one per incarnation of its database: a re-provisioned
province (numbering from 1 again) opens a new epoch, the old epoch's events stay, a closed epoch refuses more, and
senders from before incarnations existed go on as they were."""
import uuid
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, col, select

from national_events import case as _case
from registry.errors import Conflict
from registry.exchange import service as exchange
from registry.exchange.models import Batch, ExchangeCursor, NationalEvent

OLD, NEW = uuid.uuid4().hex, uuid.uuid4().hex


def _batch(first: int, count: int, *, incarnation: str | None, salt: str) -> Batch:
    """beijing's events first..first+count-1, their ids unique to `salt` (one database's outbox)."""
    return Batch.model_validate({
        "province": "beijing", "province_code": "110000", "first_seq": first, "last_seq": first + count - 1,
        **({"incarnation": incarnation} if incarnation else {}),
        "events": [{"seq": seq, "event_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{salt}/{seq}")),
                    "at": datetime(2026, 10, 2, tzinfo=UTC).isoformat(), "event_type": "case.declared",
                    "aggregate_type": "case", "aggregate_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{salt}/c{seq}")),
                    "payload": _case(uuid.uuid5(uuid.NAMESPACE_URL, f"{salt}/c{seq}"))}
                   for seq in range(first, first + count)]})


@pytest.fixture
def ministry_db(app):
    with Session(app.state.ctx.engine) as session:
        yield session


@pytest.fixture
def receive(ministry_db, app):
    return lambda batch: exchange.receive_batch(ministry_db, batch, journal=app.state.ctx.journal)


def _epochs(session: Session) -> list[tuple[int, int, str | None, bool]]:
    session.rollback()
    return [(c.epoch, c.acknowledged_seq, c.incarnation, c.closed_at is not None) for c in session.exec(
        select(ExchangeCursor).where(ExchangeCursor.province_slug == "beijing").order_by(col(ExchangeCursor.epoch)))]


def _held(session: Session) -> dict[int, int]:
    rows = session.exec(select(NationalEvent.epoch).where(NationalEvent.province_slug == "beijing")).all()
    return {epoch: rows.count(epoch) for epoch in set(rows)}


def test_a_province_provisioned_again_opens_a_new_epoch_and_the_old_one_stays(receive, ministry_db):
    assert receive(_batch(1, 3, incarnation=OLD, salt="old")) == (3, 3, 1)

    # purged and provisioned again without being offboarded: its outbox starts at 1 under another incarnation
    assert receive(_batch(1, 2, incarnation=NEW, salt="new")) == (2, 2, 2)
    assert receive(_batch(1, 2, incarnation=NEW, salt="new")) == (2, 0, 2)  # a resend, stored once

    assert _epochs(ministry_db) == [(1, 3, OLD, True), (2, 2, NEW, False)]
    assert _held(ministry_db) == {1: 3, 2: 2}
    assert exchange.acknowledged_seq(ministry_db, "beijing") == 2
    with pytest.raises(Conflict) as old_again:  # the old database cannot come back and write into its closed epoch
        receive(_batch(4, 1, incarnation=OLD, salt="old"))
    assert old_again.value.problems[0].rule == "epoch_closed"


def test_a_closed_epoch_refuses_its_incarnation_and_a_new_one_is_accepted(receive, ministry_db, app):
    receive(_batch(1, 2, incarnation=OLD, salt="old"))
    closed = exchange.close_province(ministry_db, province="beijing", province_code="110000", incarnation=OLD,
                                     journal=app.state.ctx.journal, actor="test")
    again = exchange.close_province(ministry_db, province="beijing", province_code="110000", incarnation=OLD,
                                    journal=app.state.ctx.journal, actor="test")

    assert (closed.epoch, closed.acknowledged_seq, closed.closed_at is not None) == (1, 2, True)
    assert again.closed_at == closed.closed_at  # idempotent
    with pytest.raises(Conflict) as refused:
        receive(_batch(3, 1, incarnation=OLD, salt="old"))
    assert refused.value.problems[0].field == "epoch" and refused.value.problems[0].rule == "epoch_closed"
    assert receive(_batch(1, 1, incarnation=NEW, salt="new")) == (1, 1, 2)


def test_senders_and_cursors_from_before_incarnations_go_on_as_they_were(receive, ministry_db):
    assert receive(_batch(1, 2, incarnation=None, salt="old")) == (2, 2, 1)
    # the same database, upgraded: its incarnation is adopted by the epoch it has been sending into
    assert receive(_batch(2, 2, incarnation=OLD, salt="old")) == (3, 1, 1)
    assert _epochs(ministry_db) == [(1, 3, OLD, False)]
    assert receive(_batch(4, 1, incarnation=None, salt="old")) == (4, 1, 1)


def test_a_rebuilt_outbox_under_a_legacy_cursor_opens_a_new_epoch(receive, ministry_db):
    receive(_batch(1, 2, incarnation=None, salt="old"))
    # seq 1 again with other event ids: another database, not a resend
    assert receive(_batch(1, 1, incarnation=NEW, salt="new")) == (1, 1, 2)
    assert _epochs(ministry_db) == [(1, 2, None, True), (2, 1, NEW, False)]
