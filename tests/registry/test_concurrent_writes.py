"""Writers racing each other: the audit chain stays linear, the outbox gap-free, and duplicates stay refused.

Each writer is a real thread with its own session, as in the server; the barrier makes them start together.
"""
import threading
import uuid
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from factories import case_payload, declare_case, resident_id
from registry.audit import service as audit
from registry.audit.models import AuditEntry
from registry.cases import declarations as cases
from registry.cases.models import Case, CaseCreate, CasePublic
from registry.errors import Conflict
from registry.journal_statements import MAX_KEY_LOCKS
from registry.outbox.models import OutboxEvent

WRITERS = 8


def _race(work: Callable[[int], object]) -> list[object]:
    """Run `work(i)` in WRITERS threads at once; each result is its return value or the exception it raised."""
    barrier, results = threading.Barrier(WRITERS), [None] * WRITERS

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # the test inspects what each writer got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a writer is stuck: lock order broken"
    return results


def _declare(app, principal, payload: dict):
    ctx = app.state.ctx
    with Session(ctx.engine, expire_on_commit=False) as session:
        return cases.declare(session, ctx=ctx, principal=principal, data=CaseCreate.model_validate(payload))


def _principal(app, token_header: dict):
    return app.state.ctx.issuer.verify(token_header["Authorization"].removeprefix("Bearer "))


def test_parallel_declarations_keep_the_chain_linear_and_the_outbox_gap_free(app, registrar, funeral_home):
    principal, institution = _principal(app, registrar), uuid.UUID(funeral_home["id"])
    payloads = [case_payload(institution, deceased_name=f"并发逝者{i}", birth_date=f"1940-01-{i + 1:02d}",
                             id_number=resident_id(birth=date(1940, 1, i + 1)), death_certificate_no=f"C-{i:04d}")
                for i in range(WRITERS)]

    results = _race(lambda i: _declare(app, principal, payloads[i]))

    assert all(not isinstance(result, Exception) for result in results), results
    with Session(app.state.ctx.engine) as session:
        assert session.scalar(select(func.count()).select_from(Case)) == WRITERS
        assert session.scalar(select(func.count()).select_from(OutboxEvent)
                              .where(OutboxEvent.event_type == "case.declared")) == WRITERS
        events = session.scalars(select(OutboxEvent.seq).order_by(OutboxEvent.seq)).all()
        entries = session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
        verdict = audit.verify(session, anchor=app.state.ctx.journal.anchor)
    assert events == list(range(1, len(events) + 1)), "outbox numbers have a gap"
    assert entries == list(range(1, len(entries) + 1))
    assert verdict.ok, verdict


def test_racing_declarations_of_one_id_number_register_exactly_one(app, registrar, funeral_home):
    principal, institution = _principal(app, registrar), uuid.UUID(funeral_home["id"])
    same_id = resident_id(birth=date(1950, 5, 5))
    # different names: only the ID number makes them duplicates
    payloads = [case_payload(institution, deceased_name=f"同号逝者{i}", birth_date="1950-05-05",
                             id_number=same_id, death_certificate_no=f"D-{i:04d}") for i in range(WRITERS)]

    results = _race(lambda i: _declare(app, principal, payloads[i]))

    winners = [result for result in results if not isinstance(result, Exception)]
    assert len(winners) == 1, results
    refusals = [result for result in results if isinstance(result, Conflict)]
    assert len(refusals) == WRITERS - 1, results
    assert all(str(winners[0].id) in str(refusal) for refusal in refusals)


def test_racing_declarations_of_one_person_register_exactly_one(app, registrar, funeral_home):
    principal, institution = _principal(app, registrar), uuid.UUID(funeral_home["id"])
    # same name and birth date, deaths a day apart, different ID numbers: a likely duplicate
    payloads = [case_payload(institution, deceased_name="同名逝者", birth_date="1951-06-06",
                             id_number=resident_id(birth=date(1951, 6, 6), seq=i),
                             death_at=f"2026-11-{10 + (i % 2):02d}T08:00:00+08:00", death_certificate_no=f"E-{i:04d}")
                for i in range(WRITERS)]

    results = _race(lambda i: _declare(app, principal, payloads[i]))

    assert sum(not isinstance(result, Exception) for result in results) == 1, results
    assert sum(isinstance(result, Conflict) for result in results) == WRITERS - 1, results


def test_a_correction_racing_declarations_cannot_create_a_duplicate(app, client, registrar, funeral_home):
    principal, institution = _principal(app, registrar), uuid.UUID(funeral_home["id"])
    existing = declare_case(client, registrar, institution, deceased_name="待更正逝者", birth_date="1952-07-07",
                            id_number=resident_id(birth=date(1952, 7, 7)), death_certificate_no="F-0000")
    wanted = resident_id(birth=date(1953, 8, 8))
    ctx = app.state.ctx

    def work(i: int):
        if i == 0:  # one writer corrects the existing case to the ID number the others declare
            with Session(ctx.engine, expire_on_commit=False) as session:
                return cases.correct_case(session, ctx=ctx, principal=principal, case_id=uuid.UUID(existing["id"]),
                                          changes={"id_number": wanted, "birth_date": "1953-08-08"},
                                          reason="证件号码录入错误")
        return _declare(app, principal, case_payload(
            institution, deceased_name=f"新逝者{i}", birth_date="1953-08-08", id_number=wanted,
            death_certificate_no=f"G-{i:04d}"))

    results = _race(work)

    assert sum(not isinstance(result, Exception) for result in results) == 1, results
    with Session(ctx.engine) as session:
        holders = session.scalar(select(func.count()).select_from(Case)
                                 .where(Case.id_number_index == ctx.blind_index(wanted)))
        assert holders == 1
        assert audit.verify(session, anchor=ctx.journal.anchor).ok


def test_two_servers_on_one_database_interleave_without_breaking_the_chain(app, settings, registrar, funeral_home):
    # a second app on the same database stands for a second server process: its own engine and writer turn
    from registry.app import create_app

    other = create_app(settings)
    principal, institution = _principal(app, registrar), uuid.UUID(funeral_home["id"])
    try:
        for i in range(6):  # alternate, so each server finds the head moved by the other every time
            server = app if i % 2 else other
            _declare(server, principal, case_payload(
                institution, deceased_name=f"交替逝者{i}", birth_date=f"1945-02-{i + 1:02d}",
                id_number=resident_id(birth=date(1945, 2, i + 1)), death_certificate_no=f"H-{i:04d}"))
        results = _race(lambda i: _declare(app if i % 2 else other, principal, case_payload(
            institution, deceased_name=f"并行逝者{i}", birth_date=f"1946-03-{i + 1:02d}",
            id_number=resident_id(birth=date(1946, 3, i + 1)), death_certificate_no=f"J-{i:04d}")))
        assert all(not isinstance(result, Exception) for result in results), results
    finally:
        other.state.ctx.engine.dispose()
    with Session(app.state.ctx.engine) as session:
        events = session.scalars(select(OutboxEvent.seq).order_by(OutboxEvent.seq)).all()
        assert events == list(range(1, len(events) + 1)), "outbox numbers have a gap"
        declared = session.scalar(select(func.count()).select_from(Case))
        # every case has its audit entry and its event: none was lost when a server found the head moved
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "case.declare")) == declared == 6 + WRITERS
        assert session.scalar(select(func.count()).select_from(OutboxEvent)
                              .where(OutboxEvent.event_type == "case.declared")) == declared
        verdict = audit.verify(session, anchor=app.state.ctx.journal.anchor)
    assert verdict.ok, verdict


def test_group_commits_of_two_servers_racing_keep_the_chain_and_the_outbox_whole(app, settings, registrar,
                                                                                 funeral_home, caplog):
    from registry.app import create_app

    other = create_app(settings)  # a second server process on the same database
    principal, institution = _principal(app, registrar), uuid.UUID(funeral_home["id"])

    def batch(i: int):
        server = app if i % 2 else other
        declarations = [cases.prepare(server.state.ctx, principal, CaseCreate.model_validate(
            case_payload(institution, deceased_name=f"批量逝者{i}-{k}", birth_date=f"1947-{i + 1:02d}-{k + 1:02d}",
                         id_number=resident_id(birth=date(1947, i + 1, k + 1)), death_certificate_no=f"K-{i}{k}")))
            for k in range(4)]
        return cases.declare_batch(server.state.ctx, declarations)

    try:
        with caplog.at_level("INFO", logger="registry.cases.declarations"):
            results = _race(batch)
    finally:
        other.state.ctx.engine.dispose()

    assert all(isinstance(case, CasePublic) for result in results for case in result), results
    assert "one by one" not in caplog.text  # no batch collided with another: none had to be replayed
    with Session(app.state.ctx.engine) as session:
        events = session.scalars(select(OutboxEvent.seq).order_by(OutboxEvent.seq)).all()
        assert events == list(range(1, len(events) + 1)), "outbox numbers have a gap"
        assert session.scalar(select(func.count()).select_from(Case)) == 4 * WRITERS
        assert session.scalar(select(func.count()).select_from(OutboxEvent)
                              .where(OutboxEvent.event_type == "case.declared")) == 4 * WRITERS
        verdict = audit.verify(session, anchor=app.state.ctx.journal.anchor)
    assert verdict.ok, verdict


@pytest.mark.postgresql_only
def test_a_unit_claiming_thousands_of_keys_holds_one_lock_and_keeps_other_claims_out_until_it_ends(app):
    """A bulk batch's claims must not fill the server's lock table, which every tenant database on it shares: beyond
    MAX_KEY_LOCKS keys a unit claims the whole key space with one lock, and still serialises with other claims."""
    ctx = app.state.ctx
    keys = [f"case-archive:BJ-2012/{n:06d}" for n in range(5000)]
    advisory = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s"
    waited = threading.Event()

    def small_claim():
        with Session(ctx.engine) as session, ctx.journal.write(session, actor="other", claims=["case-archive:X-1"]):
            waited.set()

    with Session(ctx.engine) as session, ctx.journal.write(session, actor="tester", claims=keys):
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        other = threading.Thread(target=small_claim)
        other.start()
        kept_out = not waited.wait(0.5)
        with ctx.engine.connect() as probe:
            held = probe.exec_driver_sql(advisory, (pid,)).scalar()
    other.join(10)
    with ctx.engine.connect() as probe:
        left = probe.exec_driver_sql(advisory, (pid,)).scalar()

    assert (held, left) == (1, 0)
    assert kept_out and waited.is_set(), "the small claim neither waited for the bulk unit nor went on after it"


@pytest.mark.postgresql_only
def test_a_unit_claiming_few_keys_holds_one_lock_each_and_a_whole_space_claim_waits_for_it(app):
    ctx = app.state.ctx
    keys = [f"case-person:某{n}|1940-01-01" for n in range(3)]
    advisory = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s"
    waited = threading.Event()

    def bulk_claim():
        with Session(ctx.engine) as session, ctx.journal.write(
                session, actor="bulk", claims=[f"case-archive:{n}" for n in range(MAX_KEY_LOCKS + 1)]):
            waited.set()

    with Session(ctx.engine) as session, ctx.journal.write(session, actor="tester", claims=keys):
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        bulk = threading.Thread(target=bulk_claim)
        bulk.start()
        kept_out = not waited.wait(0.5)
        with ctx.engine.connect() as probe:
            held = probe.exec_driver_sql(advisory, (pid,)).scalar()
    bulk.join(10)

    assert held == len(keys) + 1  # its keys and its share of the whole key space
    assert kept_out and waited.is_set(), "the whole-space claim neither waited for the small one nor went on after it"
