"""Group commit: declarations that arrive together share a transaction, and each still gets its own answer.

The queue is tested alone with a recording `work`; the writes on both backends, through the service and through
concurrent HTTP requests on one event loop (as uvicorn serves them).
"""
import asyncio
import threading
import time
import uuid
from datetime import date

import httpx
import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from factories import case_payload, resident_id
from registry.audit import service as audit
from registry.audit.models import AuditEntry
from registry.cases import declarations as cases
from registry.cases.models import Case, CaseCreate, CasePublic
from registry.errors import Conflict, Invalid
from registry.group_commit import GroupCommit
from registry.outbox.models import OutboxEvent

# --- the queue ----------------------------------------------------------------------------------------------------

class _Recorder:
    """A `work` that records its batches; the first batch waits for `release` so that others can queue."""

    def __init__(self, answer=lambda item: item * 10):
        self.batches: list[list[int]] = []
        self.started, self.release = threading.Event(), threading.Event()
        self.answer = answer

    def __call__(self, items):
        if not self.batches:
            self.started.set()
            self.release.wait(timeout=10)
        self.batches.append(list(items))
        return [self.answer(item) for item in items]


async def _until(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.001)


async def _submit_while_first_is_written(group: GroupCommit, work: _Recorder, items: list[int]) -> list:
    """Item 0 alone, the rest queued while it is being written; every outcome, exceptions included."""
    first = asyncio.ensure_future(group.submit(items[0]))
    await _until(work.started.is_set)  # item 0 is being written
    rest = [asyncio.ensure_future(group.submit(item)) for item in items[1:]]
    await _until(lambda: group.waiting() == len(items) - 1)
    work.release.set()
    return await asyncio.gather(first, *rest, return_exceptions=True)


def test_items_queued_during_a_write_share_the_next_transaction():
    work = _Recorder()
    group = GroupCommit(work)

    results = asyncio.run(_submit_while_first_is_written(group, work, [1, 2, 3, 4, 5]))

    assert work.batches == [[1], [2, 3, 4, 5]]
    assert results == [10, 20, 30, 40, 50]  # each waiter its own result


def test_an_idle_queue_writes_at_once_without_waiting_for_company():
    work = _Recorder()
    work.release.set()
    group = GroupCommit(work)

    async def one_by_one():
        return [await group.submit(item) for item in (1, 2, 3)]

    assert asyncio.run(one_by_one()) == [10, 20, 30]
    assert work.batches == [[1], [2], [3]]


def test_max_batch_bounds_a_transaction():
    work = _Recorder()
    group = GroupCommit(work, max_batch=2)

    results = asyncio.run(_submit_while_first_is_written(group, work, [1, 2, 3, 4, 5, 6]))

    assert work.batches == [[1], [2, 3], [4, 5], [6]]
    assert results == [10, 20, 30, 40, 50, 60]


def test_each_waiter_gets_its_own_refusal():
    work = _Recorder(answer=lambda item: ValueError(f"refused {item}") if item % 2 else item)
    group = GroupCommit(work)

    results = asyncio.run(_submit_while_first_is_written(group, work, [1, 2, 3, 4]))

    assert [str(r) if isinstance(r, ValueError) else r for r in results] == ["refused 1", 2, "refused 3", 4]


def test_a_failed_batch_fails_its_waiters_only_and_the_queue_goes_on():
    def fail_the_second_batch(items):
        if 2 in items:
            raise RuntimeError("database went away")
        return [item * 10 for item in items]

    work = _Recorder()
    work.answer = lambda item: item
    group = GroupCommit(lambda items: fail_the_second_batch(work(items)))

    async def scenario():
        outcomes = await _submit_while_first_is_written(group, work, [1, 2, 3])
        return outcomes, await group.submit(4)  # the queue still works afterwards

    outcomes, after = asyncio.run(scenario())

    assert outcomes[0] == 10
    assert all(isinstance(o, RuntimeError) and "went away" in str(o) for o in outcomes[1:])
    assert after == 40


def test_a_work_that_answers_the_wrong_number_of_items_is_an_error_not_a_hang():
    group = GroupCommit(lambda items: [])

    with pytest.raises(RuntimeError, match="0 results for 1 items"):
        asyncio.run(asyncio.wait_for(group.submit(1), timeout=10))


def test_a_client_that_hangs_up_does_not_take_its_item_out_of_the_batch(caplog):
    work = _Recorder(answer=lambda item: ValueError("refused") if item == 3 else item)
    group = GroupCommit(work)

    async def scenario():
        first = asyncio.ensure_future(group.submit(1))
        await _until(work.started.is_set)
        kept, gone = asyncio.ensure_future(group.submit(2)), asyncio.ensure_future(group.submit(3))
        await _until(lambda: group.waiting() == 2)
        gone.cancel()  # the client hung up while its declaration waited
        work.release.set()
        return await first, await kept, await asyncio.gather(gone, return_exceptions=True)

    first, kept, (gone,) = asyncio.run(scenario())

    assert (first, kept, isinstance(gone, asyncio.CancelledError)) == (1, 2, True)
    assert work.batches == [[1], [2, 3]]  # written all the same: the answer, not the write, is what got lost
    assert "never retrieved" not in caplog.text


def test_under_load_the_next_transaction_waits_for_the_clients_just_answered():
    batches: list[int] = []

    def work(items):
        batches.append(len(items))
        time.sleep(0.005)  # a transaction takes a while
        return list(items)

    group = GroupCommit(work, linger=0.2)

    async def client(n: int):
        for round_ in range(5):
            await group.submit((n, round_))
            await asyncio.sleep(0.001 * (n + 1))  # each client reads its answer and sends its next request

    async def four_clients():
        await asyncio.gather(*(client(n) for n in range(4)))

    asyncio.run(four_clients())

    assert sum(batches) == 20
    assert batches[-4:] == [4, 4, 4, 4], batches  # without the wait: alternating partial batches


def test_an_idle_queue_never_lingers():
    group = GroupCommit(lambda items: list(items), linger=0.5)

    async def one_by_one():
        started = asyncio.get_running_loop().time()
        for item in range(3):
            await group.submit(item)
        return asyncio.get_running_loop().time() - started

    assert asyncio.run(one_by_one()) < 0.5


def test_max_batch_must_be_positive():
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommit(lambda items: items, max_batch=0)
    with pytest.raises(ValueError, match="linger"):
        GroupCommit(lambda items: items, linger=-1)


# --- declarations written together ----------------------------------------------------------------------------------

def _principal(app, headers: dict):
    return app.state.ctx.issuer.verify(headers["Authorization"].removeprefix("Bearer "))


def _declaration(app, principal, institution, i: int, **overrides):
    birth = date(1935, 1, 1 + i % 28)
    fields = dict(deceased_name=f"同批逝者{i:03d}", birth_date=birth.isoformat(),
                  id_number=resident_id(birth=birth, seq=i), death_certificate_no=f"GC-{i:04d}")
    payload = case_payload(institution, **{**fields, **overrides})
    return cases.prepare(app.state.ctx, principal, CaseCreate.model_validate(payload))


def _chain_and_outbox(ctx) -> tuple[int, int, bool]:
    with Session(ctx.engine) as session:
        entries = session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
        events = session.scalars(select(OutboxEvent.seq).order_by(OutboxEvent.seq)).all()
        assert entries == list(range(1, len(entries) + 1))
        assert events == list(range(1, len(events) + 1)), "outbox numbers have a gap"
        return len(entries), len(events), audit.verify(session, anchor=ctx.journal.anchor).ok


def _case_count(ctx) -> int:
    with Session(ctx.engine) as session:
        return session.scalar(select(func.count()).select_from(Case))


@pytest.mark.parametrize("rule", ["duplicate_id_number", "duplicate_name_birth_death"])
def test_a_batch_refuses_a_duplicate_of_a_declaration_in_the_same_batch(app, registrar, funeral_home, rule, caplog):
    principal, institution = _principal(app, registrar), uuid.UUID(funeral_home["id"])
    first = _declaration(app, principal, institution, 1)
    birth = first.data.birth_date
    if rule == "duplicate_id_number":  # another name: only the ID number makes it a duplicate
        twin = _declaration(app, principal, institution, 2, id_number=first.data.id_number, birth_date=birth.isoformat())
    else:  # another ID number: same name, birth date and (within five days) death
        twin = _declaration(app, principal, institution, 2, deceased_name=first.data.deceased_name,
                            birth_date=birth.isoformat(), id_number=resident_id(birth=birth, seq=2))
    other = _declaration(app, principal, institution, 3)

    with caplog.at_level("INFO", logger="registry.cases.declarations"):
        results = cases.declare_batch(app.state.ctx, [first, twin, other])

    assert isinstance(results[0], CasePublic) and isinstance(results[2], CasePublic)
    assert isinstance(results[1], Conflict)
    assert results[1].problems[0].rule == rule
    assert results[1].problems[0].extra["existing_case_id"] == str(first.row["id"])
    assert _case_count(app.state.ctx) == 2
    assert "one by one" not in caplog.text  # refused in the batch, not by the database


def test_a_refused_declaration_leaves_the_rest_of_its_batch_written(app, registrar, funeral_home):
    principal, institution = _principal(app, registrar), uuid.UUID(funeral_home["id"])
    batch = [_declaration(app, principal, institution, i) for i in range(5)]
    batch[2] = _declaration(app, principal, uuid.uuid4(), 2)  # an institution that does not exist
    ctx = app.state.ctx
    entries_before, events_before, _ = _chain_and_outbox(ctx)

    results = cases.declare_batch(ctx, batch)

    assert isinstance(results[2], Invalid) and results[2].problems[0].field == "institution_id"
    assert [isinstance(r, CasePublic) for r in results] == [True, True, False, True, True]
    entries, events, chain_ok = _chain_and_outbox(ctx)
    assert (entries - entries_before, events - events_before, chain_ok) == (4, 4, True)
    with Session(ctx.engine) as session:
        written = set(session.scalars(select(Case.id)).all())
    assert written == {r.id for r in results if isinstance(r, CasePublic)}


def test_a_batch_the_database_refuses_is_written_again_one_by_one(app, client, registrar, funeral_home):
    principal, institution = _principal(app, registrar), uuid.UUID(funeral_home["id"])
    ctx = app.state.ctx
    (existing,) = cases.declare_batch(ctx, [_declaration(app, principal, institution, 0)])
    batch = [_declaration(app, principal, institution, i) for i in range(1, 5)]
    batch[1].row["id"] = existing.id  # its insert breaks the primary key: the whole transaction fails

    results = cases.declare_batch(ctx, batch)

    assert [isinstance(r, CasePublic) for r in results] == [True, False, True, True]
    assert "IntegrityError" in type(results[1]).__name__
    assert _case_count(ctx) == 4
    entries, events, chain_ok = _chain_and_outbox(ctx)
    assert chain_ok and events == 4 + 1  # four cases and the funeral home
    batches = ctx.metrics.registry.get_sample_value("fsp_case_declaration_batch_size_count")
    assert batches == 2  # the replay does not count as batches of its own


def test_concurrent_http_declarations_are_written_together_and_answered_each(app, registrar, funeral_home):
    institution = funeral_home["id"]
    group = app.state.case_declarations
    payloads = [case_payload(institution, deceased_name=f"并发请求{i}", birth_date=f"1938-02-{i + 1:02d}",
                             id_number=resident_id(birth=date(1938, 2, i + 1)), death_certificate_no=f"H-{i:04d}")
                for i in range(8)]
    # a duplicate of its neighbour by ID number (and so by birth date); its name differs
    payloads[5] = {**payloads[5], "id_number": payloads[4]["id_number"], "birth_date": payloads[4]["birth_date"]}
    entered, gate, original_work = threading.Event(), threading.Event(), group._work

    def gated(items):  # the first transaction waits until every other request is queued
        entered.set()
        gate.wait(timeout=10)
        return original_work(items)

    group._work = gated

    async def send_all():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as http:
            first = asyncio.ensure_future(http.post("/api/v1/cases", json=payloads[0], headers=registrar))
            await _until(lambda: entered.is_set() or first.done())
            assert not first.done(), first.result().text
            rest = [asyncio.ensure_future(http.post("/api/v1/cases", json=p, headers=registrar))
                    for p in payloads[1:]]
            await _until(lambda: group.waiting() == 7 or any(r.done() for r in rest))
            assert group.waiting() == 7, [r.result().text for r in rest if r.done()]
            gate.set()
            return await asyncio.gather(first, *rest)

    responses = asyncio.run(send_all())

    assert [r.status_code for r in responses] == [201] * 5 + [409] + [201] * 2
    refusal = responses[5].json()["errors"][0]
    assert (refusal["rule"], refusal["existing_case_id"]) == ("duplicate_id_number", responses[4].json()["id"])
    ctx = app.state.ctx
    assert ctx.metrics.registry.get_sample_value("fsp_case_declaration_batch_size_count") == 2
    assert ctx.metrics.registry.get_sample_value("fsp_case_declaration_batch_size_sum") == 8
    entries, events, chain_ok = _chain_and_outbox(ctx)
    assert chain_ok and events == 7 + 1  # seven cases and the funeral home
    with Session(ctx.engine) as session:
        refused = session.scalars(select(AuditEntry).where(AuditEntry.result == audit.REFUSED)).all()
    assert [e.action for e in refused] == ["POST /api/v1/cases"]
