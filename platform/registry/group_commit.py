"""Group commit: requests that arrive while a write is in flight are written together in the next transaction.

A busy registry spends most of a write on per-transaction costs: locks, round trips, the commit. Each request
hands its prepared item to `submit` and awaits its own result; one drainer per event loop takes everything
queued (up to `max_batch`), runs the blocking `work` on a worker thread, and answers every waiter. An idle
server writes each request at once (a batch of one): there is no timer and no added wait.
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
        self.draining = False


class GroupCommit(Generic[Item, Result]):
    """`work(items)` writes items in one transaction and returns, per item in order, its result or the
    exception to raise to its waiter; if it raises instead, every waiter of that batch gets the exception."""

    def __init__(self, work: Callable[[Sequence[Item]], Sequence[Result | BaseException]], *, max_batch: int = 32):
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._work, self.max_batch = work, max_batch
        # one queue per event loop: test clients and servers each run their own loop
        self._queues: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue]" = weakref.WeakKeyDictionary()

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
        if not queue.draining:
            queue.draining = True
            loop.create_task(self._drain(queue))
        # shielded: a client that hangs up does not pull its item out of a batch already being written
        return await asyncio.shield(future)

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
                batch = []
        except BaseException as exc:  # cancelled with its loop: nobody is left waiting forever
            stranded, queue.waiting = batch + queue.waiting, []
            _answer(stranded, [exc] * len(stranded))
            raise
        finally:
            queue.draining = False


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
