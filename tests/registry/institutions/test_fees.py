"""Fee periods (收费标准公示): a service has one price on any day, published days are never rewritten, and every
change is audited and sent to the ministry and the public disclosure."""
import json
import threading
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from assertions import assert_problem, assert_refused_and_nothing_written, snapshot
from factories import create_institution
from registry.audit.models import AuditEntry
from registry.db_types import today_in_china
from registry.errors import Conflict
from registry.institutions import service
from registry.institutions.models import ServiceItem, ServiceItemCreate
from registry.outbox.models import OutboxEvent

SERVICE = "遗体火化"


def _day(offset: int) -> str:
    return (today_in_china() + timedelta(days=offset)).isoformat()


def _price(price_fen: int, effective_from: str, effective_to: str | None = None, name: str = SERVICE) -> dict:
    return {"name": name, "category": "basic", "unit": "具", "price_fen": price_fen,
            "pricing_basis": "government_set", "effective_from": effective_from, "effective_to": effective_to}


@pytest.fixture
def fees(client, admin):
    """`fees.add(price)`, `fees.end(item, day)`, `fees.on(day)`, `fees.history()` for one institution."""
    institution = create_institution(client, admin)

    class Fees:
        path = f"/api/v1/institutions/{institution['id']}/service-items"
        id = institution["id"]

        def add(self, payload: dict, headers=admin):
            return client.post(self.path, json=payload, headers=headers)

        def end(self, item: dict, day: str, headers=admin):
            return client.post(f"{self.path}/{item['id']}/end", json={"effective_to": day}, headers=headers)

        def listed(self) -> list[tuple[str, int]]:
            return [(i["name"], i["price_fen"]) for i in client.get(self.path).json()["data"]]

        def on(self, day: str) -> list[tuple[str, int]]:
            return [(i["name"], i["price_fen"]) for i in client.get(self.path, params={"on": day}).json()["data"]]

        def history(self) -> list[tuple[int, str, str | None]]:
            rows = client.get(self.path, params={"history": "true"}).json()["data"]
            return [(i["price_fen"], i["effective_from"], i["effective_to"]) for i in rows]

    return Fees()


def _recorded(session: Session, n: int) -> tuple[list, list]:
    """The newest n audit entries and outbox events, oldest first."""
    session.rollback()
    entries = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(n)).all()
    events = session.exec(select(OutboxEvent).order_by(col(OutboxEvent.seq).desc()).limit(n)).all()
    session.rollback()
    return ([(e.action, e.object_id, e.result, json.loads(e.detail)) for e in reversed(entries)],
            [(e.event_type, e.aggregate_id, json.loads(e.payload)) for e in reversed(events)])


def test_a_new_price_ends_the_open_one_the_day_before(fees, session):
    old = fees.add(_price(40000, "2025-01-01")).json()
    response = fees.add(_price(45000, _day(10)))

    assert response.status_code == 201, response.text
    new = response.json()
    assert fees.on(_day(10)) == [(SERVICE, 45000)]
    assert fees.on(_day(9)) == [(SERVICE, 40000)]
    assert fees.history() == [(40000, "2025-01-01", _day(9)), (45000, _day(10), None)]
    entries, events = _recorded(session, 2)
    assert entries == [("service_item.end", old["id"], "ok", {"superseded_by": new["id"]}),
                       ("service_item.create", new["id"], "ok", {})]
    assert [(t, i) for t, i, _ in events] == [("service_item.ended", old["id"]), ("service_item.published", new["id"])]
    assert events[0][2]["effective_to"] == _day(9) and events[1][2] == new


def test_the_schedule_shows_current_and_announced_prices_and_the_history_all(fees):
    fees.add(_price(30000, "2024-01-01", "2024-12-31"))
    fees.add(_price(120000, "2025-01-01", name="告别厅租用"))
    fees.add(_price(50000, _day(30), name="骨灰寄存"))
    assert fees.on(_day(0)) == [("告别厅租用", 120000)]
    assert fees.listed() == [("告别厅租用", 120000), ("骨灰寄存", 50000)]
    assert sorted(fees.history()) == [(30000, "2024-01-01", "2024-12-31"), (50000, _day(30), None),
                                      (120000, "2025-01-01", None)]


def test_one_day_or_the_history_not_both(client, fees):
    response = client.get(fees.path, params={"on": _day(0), "history": "true"})
    assert_problem(response, 422, "history", "exclusive")


@pytest.mark.parametrize(("existing", "new"), [
    ((40000, "today+5", None), (45000, "today+5", None)),  # the same start: nothing to end, both would be open
    ((40000, "today+20", None), (45000, "today+5", "today+30")),  # ends after the next one starts
    ((40000, "2025-01-01", "today+30"), (45000, "today+10", None)),  # an explicit end is never moved silently
])
def test_an_overlapping_price_is_409_naming_the_existing_one(fees, session, existing, new):
    def resolve(value):
        return _day(int(value.removeprefix("today+"))) if value and value.startswith("today+") else value

    first = fees.add(_price(existing[0], resolve(existing[1]), resolve(existing[2]))).json()
    before = snapshot(session, ServiceItem)
    body = assert_problem(fees.add(_price(new[0], resolve(new[1]), resolve(new[2]))), 409, "effective_from",
                          "price_overlap")
    assert body["errors"][0]["existing_id"] == first["id"]
    assert_refused_and_nothing_written(session, before, ServiceItem)
    assert fees.history() == [(existing[0], resolve(existing[1]), resolve(existing[2]))]


def test_a_new_price_cannot_rewrite_published_days(fees, session):
    fees.add(_price(40000, "2025-01-01"))
    before = snapshot(session, ServiceItem)
    assert_problem(fees.add(_price(45000, _day(-1))), 422, "effective_from", "not_retroactive")
    assert_refused_and_nothing_written(session, before, ServiceItem)
    assert fees.history() == [(40000, "2025-01-01", None)]

    assert fees.add(_price(45000, _day(0))).status_code == 201  # from today on: yesterday keeps its price
    assert fees.history() == [(40000, "2025-01-01", _day(-1)), (45000, _day(0), None)]


def test_a_price_is_ended_explicitly(fees, session):
    item = fees.add(_price(40000, "2025-01-01")).json()
    response = fees.end(item, _day(3))

    assert response.status_code == 200, response.text
    assert response.json() == {**item, "effective_to": _day(3)}
    assert fees.on(_day(3)) == [(SERVICE, 40000)] and fees.on(_day(4)) == []
    entries, events = _recorded(session, 1)
    assert entries == [("service_item.end", item["id"], "ok", {})]
    assert events == [("service_item.ended", item["id"], response.json())]
    # after the end a new price may follow without touching the ended one
    assert fees.add(_price(45000, _day(4))).status_code == 201
    assert fees.history() == [(40000, "2025-01-01", _day(3)), (45000, _day(4), None)]


@pytest.mark.parametrize(("start", "end", "last_day", "status", "field", "rule"), [
    (-400, None, -2, 422, "effective_to", "not_retroactive"),
    (5, None, 4, 422, "effective_to", "date_order"),
    (-400, 3, 10, 409, "effective_to", "already_ended"),
    (-400, 3, 3, 409, "effective_to", "already_ended"),
])
def test_a_bad_end_is_refused_and_changes_nothing(fees, session, start, end, last_day, status, field, rule):
    item = fees.add(_price(40000, _day(start), None if end is None else _day(end))).json()
    before = snapshot(session, ServiceItem)
    assert_problem(fees.end(item, _day(last_day)), status, field, rule)
    assert_refused_and_nothing_written(session, before, ServiceItem)
    assert fees.history() == [(40000, _day(start), None if end is None else _day(end))]


def test_ending_is_for_provincial_admins_and_their_items_only(client, fees, session, admin, mint):
    item = fees.add(_price(40000, "2025-01-01")).json()
    other = create_institution(client, admin)
    before = snapshot(session, ServiceItem)
    assert_problem(fees.end(item, _day(3), headers=mint("registrar", institution_id=uuid.UUID(fees.id))), 403,
                   "authorization", "permission")
    assert_refused_and_nothing_written(session, before, ServiceItem)
    response = client.post(f"/api/v1/institutions/{other['id']}/service-items/{item['id']}/end",
                           json={"effective_to": _day(3)}, headers=admin)
    assert_problem(response, 404, "item_id", "exists")
    assert fees.history() == [(40000, "2025-01-01", None)]


def test_the_database_keeps_one_open_price_per_service_and_periods_in_order(fees, app):
    fees.add(_price(40000, "2025-01-01"))
    rows = [{"effective_from": date(2026, 1, 1), "effective_to": None},  # a second open price of the service
            {"effective_from": date(2026, 1, 1), "effective_to": date(2025, 12, 31), "name": "告别厅租用"}]
    for row in rows:
        with Session(app.state.ctx.engine) as session:
            item = ServiceItem(**{**_price(1, "2026-01-01"), **row}, institution_id=uuid.UUID(fees.id))
            session.add(item)
            with pytest.raises(IntegrityError):
                session.commit()


def test_racing_price_changes_leave_one_price_per_day(app, fees, admin):
    fees.add(_price(40000, "2025-01-01"))
    ctx = app.state.ctx
    principal = ctx.issuer.verify(admin["Authorization"].removeprefix("Bearer "))
    writers, barrier, results = 6, threading.Barrier(6), [None] * 6

    def change(i: int) -> None:
        barrier.wait()
        try:
            with Session(ctx.engine, expire_on_commit=False) as session:
                results[i] = service.add_service_item(
                    session, ctx=ctx, principal=principal, institution_id=uuid.UUID(fees.id),
                    data=ServiceItemCreate.model_validate(_price(41000 + i, _day(1 + i % 3))))
        except Exception as exc:  # the test inspects what each writer got
            results[i] = exc

    threads = [threading.Thread(target=change, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(isinstance(r, ServiceItem | Conflict) for r in results), results
    assert any(isinstance(r, ServiceItem) for r in results)
    periods = sorted(fees.history(), key=lambda p: p[1])
    assert [p for p in periods if p[2] is None] == [periods[-1]]  # one open price, the last one
    for earlier, later in zip(periods, periods[1:]):
        assert earlier[2] is not None and earlier[2] < later[1], periods


def test_the_migration_ends_the_prices_an_older_registry_left_open(empty_database_url, run_alembic):
    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from registry.institutions.models import Institution

    run_alembic(empty_database_url, command.upgrade, "0004")
    engine = create_engine(empty_database_url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            institution = Institution(name="老馆", type="funeral_home", credit_code="121100000000000053",
                                      region_code="110107", address="石景山路1号")
            session.add(institution)
            for start in ("2025-01-01", "2026-01-01", "2026-01-01", "2027-03-01"):
                session.add(ServiceItem(**{**_price(1, start), "effective_from": date.fromisoformat(start)},
                                        institution_id=institution.id))
                session.flush()
            session.commit()
        run_alembic(empty_database_url, command.upgrade, "head")
        with Session(engine) as session:
            periods = session.exec(select(ServiceItem.effective_from, ServiceItem.effective_to)).all()
    finally:
        engine.dispose()
    # the same-day pair keeps its one shared day; every other price ends the day before the next
    assert sorted(periods, key=lambda p: (p[0], p[1] or date.max)) == [
        (date(2025, 1, 1), date(2025, 12, 31)), (date(2026, 1, 1), date(2026, 1, 1)),
        (date(2026, 1, 1), date(2027, 2, 28)), (date(2027, 3, 1), None)]
