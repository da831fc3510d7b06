"""Rendered public pages, kept a few seconds: at a Qingming peak most visitors ask for the same few pages.

A write through this process's registry app forgets every page at once (so an admin sees a new fee on the next
load); a write by another process (another replica) shows within `ttl_seconds`. A page rendered while a write
went through is not kept. Used from the event loop only, so it needs no lock.
"""
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

from portal.fallback import path_in_site
from portal.render import Page


class PageCache:
    def __init__(self, *, ttl_seconds: float = 5.0, max_pages: int = 512):
        self._ttl, self._max = ttl_seconds, max_pages
        self._pages: OrderedDict[Hashable, tuple[float, Page]] = OrderedDict()
        self.generation = 0  # moves on every write: a render started before it is not kept

    def get(self, key: Hashable) -> Page | None:
        found = self._pages.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        self._pages.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, page: Page, *, generation: int) -> None:
        if generation != self.generation:
            return
        self._pages[key] = (time.monotonic() + self._ttl, page)
        self._pages.move_to_end(key)
        while len(self._pages) > self._max:  # any query string is a key: memory stays bounded
            self._pages.popitem(last=False)

    def forget_where(self, match: Callable[[Hashable], bool]) -> None:
        """Forget the pages whose key matches (one memorial's, after a message): the others stay."""
        self.generation += 1
        for key in [key for key in self._pages if match(key)]:
            del self._pages[key]

    def forget_all(self) -> None:
        self.generation += 1
        self._pages.clear()


class ForgetPagesOnWrite:
    """ASGI wrapper of the registry app: once a request that may change what the pages show (an institution, its
    fees, its disclosure, a policy, guide or notice, a memorial created or removed, the credit lists; at the
    ministry, a province's batch) has been answered, cached pages go. Declarations and other case work, the busiest writes, leave them: at
    a peak they would otherwise empty the cache on every request. (A memorial's messages need no forgetting: its
    page is kept under its ETag, which they change.)"""

    _WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
    # the API paths whose writes change what the pages show
    _SHOWN = ("/api/v1/institutions", "/api/v1/publications", "/api/v1/exchange/", "/api/v1/my/memorials",
              # an evaluation or a list change moves the red and black lists
              "/api/v1/credit/evaluations", "/api/v1/credit/scores/")

    def __init__(self, app, cache: PageCache):
        self.app, self.cache = app, cache

    async def __call__(self, scope, receive, send) -> None:
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["type"] == "http" and scope["method"] in self._WRITES and path_in_site(scope).startswith(self._SHOWN):
                self.cache.forget_all()
