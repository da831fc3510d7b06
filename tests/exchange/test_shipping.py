"""A province's outbox shipped to the ministry over loopback HTTP: everything arrives once, a crash between the
ack and the local mark is harmless, and a refusal stops the worker with a clear reason."""
import json
import logging
import socket

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry
from sqlmodel import Session, delete, select, update
from starlette.responses import JSONResponse, PlainTextResponse

from assertions import last_audit
from kc_double.runner import BackgroundServer
from registry.app import create_app
from registry.exchange import outbound
from registry.exchange.metrics import WorkerMetrics
from registry.exchange.models import ExchangeCursor, NationalEvent
from registry.exchange.processes import create_worker_app
from registry.exchange.shipper import ShipRefused, ShipUnavailable
from registry.outbox.models import OutboxEvent


def _outbox(app) -> list[OutboxEvent]:
    with Session(app.state.ctx.engine) as session:
        return list(session.exec(select(OutboxEvent).order_by(OutboxEvent.seq)))


def test_declared_cases_arrive_in_the_national_table_under_their_province(app, declare, make_shipper, ministry_url,
                                                                          ministry_session):
    declare(3)  # one institution.created, three case.declared

    report = make_shipper(ministry_url, batch_size=2).ship_pending()
    again = make_shipper(ministry_url).ship_pending()

    assert (report.shipped, report.batches, report.acknowledged_through) == (4, 2, 4)
    assert (again.shipped, again.batches, again.acknowledged_through) == (0, 0, None)  # nothing left to send
    ministry_session.rollback()
    national = ministry_session.exec(select(NationalEvent).order_by(NationalEvent.province_seq)).all()
    local = _outbox(app)
    assert [(n.province_slug, n.province_code, n.province_seq, n.event_id, n.event_type) for n in national] == [
        ("beijing", "110000", e.seq, e.event_id, e.event_type) for e in local]
    assert [e.event_type for e in local] == ["institution.created"] + ["case.declared"] * 3
    assert json.loads(national[1].payload) == json.loads(local[1].payload)
    assert all(e.shipped_at is not None for e in local)
    assert outbound.outbox_position(app.state.ctx.engine) == {"head": 4, "shipped": 4, "pending": 0}


def test_batches_stay_under_the_byte_limit(app, declare, make_shipper, ministry_url, national_count):
    declare(3)
    largest = max(len(outbound.batch_body([event], province="beijing", province_code="110000", max_bytes=10**6)[0])
                  for event in outbound.unshipped(app.state.ctx.engine, limit=10))

    report = make_shipper(ministry_url, max_bytes=largest + 100).ship_pending()  # room for one event, not two

    assert report.batches == 4 and report.shipped == 4
    assert national_count(province_slug="beijing") == 4


def test_a_ministry_restored_from_a_backup_gets_what_it_lost_again(app, declare, make_shipper, ministry_url,
                                                                   ministry_session, national_count):
    declare(3)
    make_shipper(ministry_url).ship_pending()
    # the ministry's database goes back to a backup taken when it had received events 1 and 2 only
    ministry_session.rollback()
    ministry_session.exec(delete(NationalEvent).where(NationalEvent.province_seq > 2))
    ministry_session.exec(update(ExchangeCursor).values(acknowledged_seq=2))
    ministry_session.commit()
    declare(1)  # event 5, the only one the province has not shipped yet

    report = make_shipper(ministry_url).ship_pending()

    assert report.acknowledged_through == 5
    assert national_count(province_slug="beijing") == 5
    ministry_session.rollback()
    seqs = ministry_session.exec(select(NationalEvent.province_seq).order_by(NationalEvent.province_seq)).all()
    assert seqs == [1, 2, 3, 4, 5]
    assert outbound.outbox_position(app.state.ctx.engine) == {"head": 5, "shipped": 5, "pending": 0}


def test_an_event_too_large_for_any_batch_stops_with_a_clear_error(app, declare, make_shipper, ministry_url):
    declare(1)

    with pytest.raises(ShipRefused, match="outbox event 1 alone is .* bytes") as refused:
        make_shipper(ministry_url, max_bytes=300).ship_pending()

    assert refused.value.reason == "too_large"
    assert outbound.outbox_position(app.state.ctx.engine)["pending"] == 2


def test_a_crash_after_the_ack_before_the_mark_is_harmless(app, declare, make_shipper, ministry_url,
                                                         ministry_session, national_count, monkeypatch):
    declare(2)

    def crash(*_args, **_kwargs):
        raise KeyboardInterrupt("process killed after the hub acknowledged")

    with monkeypatch.context() as patched:
        patched.setattr(outbound, "mark_shipped", crash)
        with pytest.raises(KeyboardInterrupt):
            make_shipper(ministry_url).ship_pending()
    assert national_count() == 3
    assert outbound.outbox_position(app.state.ctx.engine)["pending"] == 3  # the hub has them, the outbox does not know

    report = make_shipper(ministry_url).ship_pending()

    assert (report.shipped, report.acknowledged_through) == (3, 3)
    assert national_count() == 3  # nothing stored twice
    assert json.loads(last_audit(ministry_session).detail)["stored"] == 0
    assert outbound.outbox_position(app.state.ctx.engine)["pending"] == 0


def test_an_unreachable_hub_is_retried_then_reported_and_nothing_is_marked(app, declare, make_shipper):
    declare(1)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, never listening: connection refused

        with pytest.raises(ShipUnavailable, match="unreachable"):
            make_shipper(url, retry_attempts=3).ship_pending()

    assert outbound.outbox_position(app.state.ctx.engine)["pending"] == 2


def test_a_hub_failing_with_5xx_is_retried_until_it_acknowledges(app, declare, make_shipper, ministry_settings,
                                                                  national_count):
    declare(1)
    ministry_app, answered = create_app(ministry_settings), []

    async def failing_twice(scope, receive, send):
        if scope["type"] == "http":
            answered.append(scope["path"])
            if len(answered) <= 2:
                await PlainTextResponse("overloaded", status_code=503)(scope, receive, send)
                return
        await ministry_app(scope, receive, send)

    with BackgroundServer(failing_twice) as url:
        report = make_shipper(url, retry_attempts=3).ship_pending()
    ministry_app.state.ctx.engine.dispose()

    assert answered == ["/api/v1/exchange/batches"] * 3
    assert (report.shipped, report.acknowledged_through) == (2, 2)
    assert national_count() == 2


def _answering(status: int, rule: str):
    """An ASGI stand-in for the ministry answering every request `status` in the one error shape."""
    async def answer(scope, receive, send):
        body = {"status": status, "title": "x", "errors": [{"field": "tenant", "rule": rule, "message": "not now"}]}
        await JSONResponse(body, status_code=status)(scope, receive, send)
    return answer


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_gateway_answering_for_a_ministry_it_cannot_reach_is_unreachable_and_retried(app, declare, make_shipper,
                                                                                     status):
    declare(1)
    metrics = WorkerMetrics(CollectorRegistry())

    with BackgroundServer(_answering(status, "tenant_not_served")) as url, \
            pytest.raises(ShipUnavailable, match=f"unreachable.*{status}") as raised:
        make_shipper(url, retry_attempts=2, metrics=metrics).ship_pending()

    assert raised.value.reason == "unreachable"
    assert metrics.failures.labels(reason="unreachable")._value.get() == 1
    assert metrics.failures.labels(reason="rejected")._value.get() == 0
    assert outbound.outbox_position(app.state.ctx.engine)["pending"] == 2


def test_a_ministry_refusing_in_the_error_shape_is_refused_at_once_with_its_reason(app, declare, make_shipper):
    declare(1)
    attempts = []
    refuse = _answering(422, "invalid")

    async def counted(scope, receive, send):
        attempts.append(scope["path"])
        await refuse(scope, receive, send)

    with BackgroundServer(counted) as url, pytest.raises(ShipRefused, match="422.*tenant: not now") as raised:
        make_shipper(url, retry_attempts=3).ship_pending()

    assert raised.value.reason == "rejected" and len(attempts) == 1  # not retried: an operator must look


@pytest.fixture
def worker_app(settings, ministry_url, peers_dir):
    """The province's exchange-worker app (loop not started: each test runs its rounds)."""
    app = create_worker_app(settings.model_copy(update={"exchange_url": ministry_url, "exchange_retry_attempts": 1}),
                            start=False)
    with TestClient(app) as client:
        yield app, client


def test_the_worker_ships_and_reports_it_in_its_metrics(declare, worker_app, national_count):
    app, client = worker_app
    declare(2)

    app.state.worker.run_once()

    assert national_count() == 3
    assert app.state.worker.stopped_reason is None
    assert client.get("/readyz").status_code == 200
    metrics = client.get("/metrics").text
    assert "fsp_exchange_events_shipped_total 3.0" in metrics
    assert "fsp_exchange_batches_shipped_total 1.0" in metrics
    assert "fsp_exchange_acknowledged_seq 3.0" in metrics
    assert "fsp_exchange_last_success_timestamp_seconds 0.0" not in metrics


def test_the_worker_stops_on_401_with_a_clear_message(declare, worker_app, peers_dir, national_count, caplog):
    app, client = worker_app
    declare(1)
    (peers_dir / "beijing.pem").unlink()  # the ministry no longer trusts beijing's key

    with caplog.at_level(logging.ERROR, logger="registry.exchange"):
        app.state.worker.run_once()

    assert "worker stopped shipping" in caplog.text and "exchange key registered" in caplog.text
    assert app.state.worker.stop.is_set()
    assert national_count() == 0
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "unauthorized" in ready.json()["reason"]
    metrics = client.get("/metrics").text
    assert 'fsp_exchange_failures_total{reason="unauthorized"} 1.0' in metrics
    assert "fsp_exchange_worker_stopped 1.0" in metrics
    assert client.get("/healthz").status_code == 200  # alive: a restart would only be refused again


def _outbox_tuples_read(engine) -> int:
    """Rows of outbox_events read so far by table and index scans (this engine's one connection flushed first)."""
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT pg_stat_force_next_flush()")
        connection.commit()
    with engine.connect() as connection:
        connection.exec_driver_sql("SELECT pg_stat_clear_snapshot()")
        return connection.exec_driver_sql(
            "SELECT coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0) FROM pg_stat_user_tables "
            "WHERE relname = 'outbox_events'").scalar()


@pytest.mark.postgresql_only
def test_the_next_batch_is_found_and_marked_without_reading_what_was_shipped_before(database_url):
    """Halfway through shipping a backfill: finding and marking a batch must walk neither the events shipped before
    nor all those still waiting (before the index of the unshipped, a batch cost 0.7 s at 800,000 of a million)."""
    from sqlalchemy import create_engine

    from registry.db import upgrade_to_head

    upgrade_to_head(database_url)
    engine = create_engine(database_url, pool_size=1, max_overflow=0)  # one backend: its statistics are ours
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO outbox_events (seq, event_id, at, event_type, aggregate_type, aggregate_id, payload, "
            "shipped_at) SELECT g, gen_random_uuid(), now(), 'case.imported', 'case', g::text, '{}', "
            "NULL FROM generate_series(1, 40000) AS g")
        # the statistics of when the backfill was written, none shipped yet (autovacuum analyses rarely after)
        connection.exec_driver_sql("ANALYZE outbox_events")
        connection.exec_driver_sql("UPDATE outbox_events SET shipped_at = now() WHERE seq <= 20000")
    before = _outbox_tuples_read(engine)

    batch = outbound.unshipped(engine, limit=5)
    marked = outbound.mark_shipped(engine, through=batch[-1].seq)
    read = _outbox_tuples_read(engine) - before

    assert ([event.seq for event in batch], marked) == ([20001, 20002, 20003, 20004, 20005], 5)
    assert read <= 20, f"{read} outbox rows read to find and mark a batch of 5"
    assert outbound.outbox_position(engine) == {"head": 40000, "shipped": 20005, "pending": 19995}
    engine.dispose()
