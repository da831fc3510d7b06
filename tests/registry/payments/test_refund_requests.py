"""A refund is asked of the provider only once the unit that requested it is committed, never after a rollback."""
import threading
from types import SimpleNamespace

from sqlalchemy import create_engine
from sqlmodel import Session

from registry.payments import service


class Refunds:
    def __init__(self):
        self.asked, self.done = [], threading.Event()

    def refund(self, *args) -> None:
        self.asked.append(args)
        self.done.set()


ORDER = SimpleNamespace(order_no="ZF0001", amount_fen=38000, refund_no="TK0001")


def test_a_refund_is_asked_after_the_commit_and_not_after_a_rollback():
    engine = create_engine("sqlite://")
    provider = Refunds()
    with Session(engine) as session:
        session.connection()
        service.send_refunds_after_commit(session, provider, [ORDER])
        session.rollback()  # the cancellation failed: its refund never leaves
        session.connection()
        session.commit()
    assert not provider.done.wait(0.3) and provider.asked == []
    with Session(engine) as session:
        session.connection()
        service.send_refunds_after_commit(session, provider, [ORDER])
        assert provider.asked == []  # not while the unit is open
        session.commit()
    assert provider.done.wait(5) and provider.asked == [("ZF0001", 38000, "TK0001")]
