"""Whether the tenant is suspended (`fsp suspend`), kept in its own database so every process serving it knows.

One row (`tenant_status`, id 1, made by migration 0033): the state (active or suspended), why and since when, and
the tenant's incarnation, a random id its database got when it was created: the ministry opens a new exchange
epoch for a province whose incarnation changed (it was purged and provisioned again).

A process reads the row at most every `StatusCache.ttl` seconds, never once per request. While suspended the
registry refuses every write of its API (`RefuseWhileSuspended`, 503 with Retry-After: the suspension is
temporary, and a device or a payment provider that retries later loses nothing), the portal refuses sign-ins
and shows a notice, and neither the exchange shipper nor department sharing sends anything; reads and public
pages go on.
"""
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

import anyio
from sqlalchemy import Engine
from sqlmodel import Field, Session, SQLModel
from starlette.responses import JSONResponse

from registry import errors, messages
from registry.db_types import ChinaTime, UTCDateTime, utcnow

ACTIVE, SUSPENDED = "active", "suspended"
# how long a client is told to wait before trying a write again (an operator resumes by hand)
RETRY_AFTER_SECONDS = 600
SUSPEND_ACTION, RESUME_ACTION = "tenant.suspend", "tenant.resume"
_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class TenantStatus(SQLModel, table=True):
    __tablename__ = "tenant_status"

    id: int = Field(default=1, primary_key=True)
    state: str = Field(default=ACTIVE, max_length=16)
    reason: str | None = Field(default=None, max_length=300)
    since: ChinaTime = Field(sa_type=UTCDateTime)
    # the database's incarnation: a purged and re-provisioned tenant has another one
    incarnation: str = Field(max_length=32)


@dataclass(frozen=True)
class Status:
    state: str
    reason: str | None
    since: datetime | None
    incarnation: str | None

    @property
    def suspended(self) -> bool:
        return self.state == SUSPENDED


def new_incarnation() -> str:
    return uuid.uuid4().hex


def read(engine: Engine) -> Status:
    """The row as it is now (a database without it reads as active, with no incarnation)."""
    with Session(engine) as session:
        row = session.get(TenantStatus, 1)
    if row is None:
        return Status(ACTIVE, None, None, None)
    return Status(row.state, row.reason, row.since, row.incarnation)


def change(session: Session, journal, *, state: str, reason: str | None, actor: str) -> bool:
    """Suspend or resume through the unit of write (audited); False when the tenant already was in that state."""
    with journal.write(session, actor=actor) as unit:
        row = session.get(TenantStatus, 1)
        if row is None:
            row = TenantStatus(since=utcnow(), incarnation=new_incarnation())
        if row.state == state:
            return False
        row.state, row.reason, row.since = state, reason if state == SUSPENDED else None, utcnow()
        session.add(row)
        unit.record(action=SUSPEND_ACTION if state == SUSPENDED else RESUME_ACTION, object_type="tenant",
                    object_id="1", detail={"state": state, "reason": reason})
    return True


class StatusCache:
    """The tenant's status, read again at most every `ttl` seconds (a suspension is seen within that)."""

    def __init__(self, engine: Engine, *, ttl: float = 2.0):
        self._engine, self._ttl = engine, ttl
        self._lock = threading.Lock()
        self._status: Status | None = None
        self._read_at = 0.0

    def _fresh(self) -> Status | None:
        return self._status if time.monotonic() - self._read_at < self._ttl else None

    def current(self) -> Status:
        fresh = self._fresh()
        if fresh is not None:
            return fresh
        with self._lock:
            fresh = self._fresh()
            if fresh is None:
                try:
                    fresh = read(self._engine)
                except Exception:  # a database that cannot answer: keep what was known, the request will fail on its own
                    fresh = self._status or Status(ACTIVE, None, None, None)
                self._status, self._read_at = fresh, time.monotonic()
            return fresh

    async def current_async(self) -> Status:
        fresh = self._fresh()
        return fresh if fresh is not None else await anyio.to_thread.run_sync(self.current)


def refusal(language: str) -> tuple[dict, dict]:
    """(the one error shape's body, headers) of a request refused because the tenant is suspended."""
    problem = errors.localize({"field": "tenant", "rule": "tenant_suspended",
                               "message": "the platform is suspended: sign-ins and changes are refused for now"},
                              language)
    body = errors.body(503, messages.title(503, language, "service unavailable"), [problem])
    return body, {"Retry-After": str(RETRY_AFTER_SECONDS)}


class RefuseWhileSuspended:
    """ASGI middleware of the registry app: while the tenant is suspended, every write of its API is refused (503,
    audited); reads, health and metrics go on."""

    def __init__(self, app, *, cache: StatusCache, journal, audit_action, audit_actor):
        self.app, self.cache, self.journal = app, cache, journal
        self.audit_action, self.audit_actor = audit_action, audit_actor

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] not in _MUTATING or not (await self.cache.current_async()).suspended:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        body, extra = refusal(messages.language_of(headers.get("accept-language")))
        await anyio.to_thread.run_sync(lambda: self.journal.refused(
            actor=self.audit_actor(scope), action=self.audit_action(scope), status=503, problems=body["errors"]))
        await JSONResponse(body, status_code=503, headers=extra)(scope, receive, send)
