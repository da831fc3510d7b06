"""Group commit: requests that arrive while a write is in flight are written together in the next transaction.

A busy registry spends most of a write on per-transaction costs: locks, round trips, the commit. Each request
hands its prepared item to `submit` and awaits its own result; one drainer per event loop takes everything
queued (up to `max_batch`), runs the blocking `work` on a worker thread, and answers every waiter.

An idle server writes each request at once (a batch of one). Under load, the clients just answered send their
next requests within a few milliseconds; without a pause the next transaction would leave with the one or two
requests that happened to be queued, and the rest would trail it. So after a batch of several, the drainer
waits up to `linger` seconds for as many requests as that batch had (PostgreSQL's commit_delay, for requests).
"""
import asyncio
import weakref
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

import anyio

Item = TypeVar("Item")
Result = TypeVar("Result")


class _Queue:
    def __init__(self) -> None:
        self.waiting: list[tuple[object, asyncio.Future]] = []
        self.draining: asyncio.Task | None = None  # held here: the loop keeps only a weak reference to tasks


class GroupCommit(Generic[Item, Result]):
    """`work(items)` writes items in one transaction and returns, per item in order, its result or the
    exception to raise to its waiter; if it raises instead, every waiter of that batch gets the exception."""

    def __init__(self, work: Callable[[Sequence[Item]], Sequence[Result | BaseException]], *, max_batch: int = 32,
                 linger: float = 0.003):
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        if linger < 0:
            raise ValueError("linger must not be negative")
        self._work, self.max_batch, self.linger = work, max_batch, linger
        # one queue per event loop: test clients and servers each run their own loop
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = weakref.WeakKeyDictionary()

    def waiting(self) -> int:
        """Items of the running event loop queued for the next transaction (not those being written)."""
        queue = self._queues.get(asyncio.get_running_loop())
        return len(queue.waiting) if queue else 0

    async def submit(self, item: Item) -> Result:
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        future = loop.create_future()
        queue.waiting.append((item, future))
        if queue.draining is None:
            queue.draining = loop.create_task(self._drain(queue))
        try:
            # shielded: a client that hangs up does not pull its item out of a batch already being written
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            future.add_done_callback(_nobody_listens)
            raise

    async def _drain(self, queue: _Queue) -> None:
        batch: list[tuple[object, asyncio.Future]] = []
        try:
            while queue.waiting:
                batch, queue.waiting = queue.waiting[:self.max_batch], queue.waiting[self.max_batch:]
                try:
                    results = await anyio.to_thread.run_sync(self._work, [item for item, _ in batch])
                    if len(results) != len(batch):
                        raise RuntimeError(f"group commit: {len(results)} results for {len(batch)} items")
                except Exception as exc:  # the whole batch failed: every waiter of it hears why
                    results = [exc] * len(batch)
                _answer(batch, results)
                written, batch = len(batch), []
                if self.linger and written > 1 and written > len(queue.waiting):
                    # under load, the waiters just answered are about to send their next requests: a moment's
                    # wait lets them join the next transaction instead of trailing it one by one
                    deadline = asyncio.get_running_loop().time() + self.linger
                    while len(queue.waiting) < written and asyncio.get_running_loop().time() < deadline:
                        await asyncio.sleep(self.linger / 10)
        except BaseException as exc:  # cancelled with its loop: nobody is left waiting forever
            stranded, queue.waiting = batch + queue.waiting, []
            _answer(stranded, [exc] * len(stranded))
            raise
        finally:
            queue.draining = None


def _answer(batch: list[tuple[object, asyncio.Future]], results: Sequence[object]) -> None:
    for (_, future), result in zip(batch, results):
        if future.done():
            continue
        if isinstance(result, asyncio.CancelledError):
            future.cancel()
        elif isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)


def _nobody_listens(future: asyncio.Future) -> None:
    # the waiter went away: its outcome is read here, so that asyncio does not log it as never retrieved
    if not future.cancelled():
        future.exception()
