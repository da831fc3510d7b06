"""Requests refused 401 (no token, or one that is not genuine) are audited by count, not one row each.

Anyone can send them, so one row each would let anyone grow the audit trail without bound. Per client address
and action, the first refusal of a window is audited at once (count 1); the others of the window are counted and
audited as one entry carrying their count when the window is closed: by the next 401 after it ends, by a
verification of the chain, or at shutdown. The counts (`detail.count`) of the refused entries with `detail.status`
401 add up to every 401 answered; `fsp_unauthenticated_refusals_total` on /metrics counts them too.
"""
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter
from sqlmodel import Session

from registry.audit import service as audit
from registry.db_types import utcnow

if TYPE_CHECKING:
    from registry.journal import Journal

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60.0
# at most this many (client, action) windows are open; further clients are counted together under "*"
MAX_OPEN_WINDOWS = 1000
STATUS = 401


@dataclass
class _Window:
    opened: float
    first_at: str
    problems: list[dict]
    # refusals of the window not audited yet
    count: int = 0
    last_at: str = field(default="")


class UnauthenticatedRefusals:
    """Counts and audits one app's 401s."""

    def __init__(self, journal: "Journal", registry: CollectorRegistry):
        self._journal = journal
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], _Window] = {}
        self.total = Counter("fsp_unauthenticated_refusals_total",
                             "Requests refused 401 (no bearer token, or not a genuine one), by action",
                             ["action"], registry=registry)

    def refused(self, *, client: str, action: str, problems: list[dict]) -> None:
        """Count one 401; audits it now if it opens a window, and any window that has ended."""
        self.total.labels(action=action).inc()
        now, at = time.monotonic(), utcnow().isoformat()
        with self._lock:
            closing = self._take(lambda window: now - window.opened >= WINDOW_SECONDS)
            key = (client, action)
            if key not in self._windows and len(self._windows) >= MAX_OPEN_WINDOWS:
                key = ("*", action)
            window = self._windows.get(key)
            if window is None:
                self._windows[key] = _Window(opened=now, first_at=at, problems=problems, last_at=at)
                closing.append((key, _Window(opened=now, first_at=at, problems=problems, count=1, last_at=at)))
            else:
                window.count += 1
                window.last_at = at
        self._audit(closing)

    def flush(self) -> None:
        """Audit every count not audited yet (before a verification, at shutdown)."""
        with self._lock:
            closing = self._take(lambda window: True)
        self._audit(closing)

    def _take(self, ended) -> list[tuple[tuple[str, str], _Window]]:
        """Remove the windows `ended` selects; those with refusals not audited yet are returned."""
        taken = [(key, window) for key, window in self._windows.items() if ended(window)]
        for key, _ in taken:
            del self._windows[key]
        return [(key, window) for key, window in taken if window.count]

    def _audit(self, windows: list[tuple[tuple[str, str], _Window]]) -> None:
        if not windows:
            return
        try:
            with Session(self._journal.engine) as session, self._journal.write(session, actor="anonymous") as unit:
                for (client, action), window in windows:
                    unit.record(action=action, object_type="request", object_id=str(STATUS), result=audit.REFUSED,
                                detail={"status": STATUS, "count": window.count, "client": client,
                                        "first_at": window.first_at, "last_at": window.last_at,
                                        "errors": window.problems})
        except Exception:  # the answer must still reach the caller; the counts wait for the next attempt
            log.exception("could not audit %d refused unauthenticated request(s)", sum(w.count for _, w in windows))
            self._put_back(windows)

    def _put_back(self, windows: list[tuple[tuple[str, str], _Window]]) -> None:
        with self._lock:
            for key, window in windows:
                open_window = self._windows.get(key)
                if open_window is None:
                    self._windows[key] = window
                else:
                    open_window.count += window.count
