"""Begin, find, sign in, keep alive and end sign-in sessions (staff of the workbench, citizens of the portal).

The secret lives only in the person's cookie; rows are found by its SHA-256. Signing in and out are writes of the
registry (audited through the unit of write); a pending sign-in and the last-seen time are bookkeeping of who is
signed in, committed on their own like the outbox's shipping marks.
"""
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_
from sqlmodel import Session

from registry.context import TenantContext
from registry.db_types import utcnow
from registry.security.auth import Principal
from registry.security.permissions import STAFF_ROLES, Role
from registry.sessions.models import SessionKind, SessionState, StaffSession

# GB/T 22239-2019 grade 3 (8.1.4.1): a session left alone ends; 15 minutes is the usual assessed value
IDLE = timedelta(minutes=15)
# a working day at most, whatever the activity: then sign in again
LIFETIME = timedelta(hours=10)
PENDING_LIFETIME = timedelta(minutes=10)
# last-seen is written at most this often: one write per page view would be waste
TOUCH_EVERY = timedelta(seconds=15)
# ended and expired rows are kept a day (for support questions), then removed
KEEP_ENDED = timedelta(days=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Found:
    """A live session, or why there is none (`ended` is "idle" or "expired" when it just ran out)."""
    row: StaffSession | None
    ended: str | None = None


class WrongArea(Exception):
    """The roles a sign-in brought do not belong where it was made (a citizen at the workbench, staff at 我的办事)."""


def fits(kind: str, roles: frozenset[str] | set[str]) -> bool:
    """Staff sessions never hold the citizen role; a citizen session holds it and no staff role."""
    if kind == SessionKind.citizen:
        return Role.citizen.value in roles and not roles & {role.value for role in STAFF_ROLES}
    return Role.citizen.value not in roles


def begin(db: Session, ctx: TenantContext, *, pending: dict, now: datetime | None = None,
          kind: SessionKind = SessionKind.staff) -> str:
    """A pending session for a sign-in that starts; its secret, for the cookie."""
    now = now or utcnow()
    db.exec(delete(StaffSession).where(or_(StaffSession.expires_at < now - KEEP_ENDED,
                                           StaffSession.ended_at < now - KEEP_ENDED)))
    secret = secrets.token_urlsafe(32)
    db.add(StaffSession(id=digest(secret), kind=kind.value, pending=ctx.encrypt("staff_session.pending", json.dumps(pending)),
                        created_at=now, last_seen_at=now, expires_at=now + PENDING_LIFETIME))
    db.commit()
    return secret


def pending_of(ctx: TenantContext, row: StaffSession) -> dict:
    return json.loads(ctx.decrypt("staff_session.pending", row.pending)) if row.pending else {}


def find(db: Session, secret: str | None, *, now: datetime | None = None, kind: SessionKind = SessionKind.staff) -> Found:
    """The session of this kind a cookie names, if it is still live: not ended, not past its end, not idle too long."""
    if not secret:
        return Found(None)
    row = db.get(StaffSession, digest(secret))
    if row is None or row.state == SessionState.ended or row.kind != kind.value:
        return Found(None)
    now = now or utcnow()
    if now >= row.expires_at:
        return Found(row, ended="expired")
    if row.state == SessionState.active and now - row.last_seen_at > IDLE:
        return Found(row, ended="idle")
    return Found(row)


def sign_in(db: Session, ctx: TenantContext, row: StaffSession, *, principal: Principal, method: str,
            access_token: str, refresh_token: str | None, token_expires_at: datetime,
            now: datetime | None = None) -> str:
    """The pending session becomes a signed-in one under a NEW secret (a secret planted before sign-in is worth
    nothing after it), audited; the new secret, for the cookie."""
    now = now or utcnow()
    if not fits(row.kind, principal.roles):
        raise WrongArea(f"a {row.kind} session cannot hold the roles {sorted(principal.roles)}")
    secret = secrets.token_urlsafe(32)
    active = StaffSession(
        id=digest(secret), kind=row.kind, state=SessionState.active, subject=principal.subject, username=principal.username,
        roles=" ".join(sorted(principal.roles)), institution_id=principal.institution_id, method=method,
        access_token=ctx.encrypt("staff_session.access_token", access_token),
        refresh_token=ctx.encrypt("staff_session.refresh_token", refresh_token) if refresh_token else None,
        token_expires_at=token_expires_at, created_at=now, last_seen_at=now, expires_at=now + LIFETIME)
    with ctx.journal.write(db, actor=principal.subject) as unit:
        db.delete(db.merge(row))
        db.add(active)
        unit.record(action=f"{row.kind}.sign_in", object_type="staff_session", object_id=active.id[:16],
                    detail={"method": method, "roles": sorted(principal.roles)})
    return secret


def end(db: Session, ctx: TenantContext, row: StaffSession, *, reason: str, now: datetime | None = None) -> None:
    """Sign out (reason "signed_out"), or close a session found idle or expired; audited when someone was in."""
    now = now or utcnow()

    def close() -> StaffSession:
        closed = db.merge(row)
        closed.state, closed.ended_at, closed.end_reason = SessionState.ended, now, reason
        closed.access_token = closed.refresh_token = closed.pending = None  # nothing to steal from an ended session
        return closed

    if row.subject is None:
        close()
        db.commit()
        return
    with ctx.journal.write(db, actor=row.subject) as unit:  # the unit starts a fresh transaction: change inside it
        close()
        unit.record(action=f"{row.kind}.sign_out", object_type="staff_session", object_id=row.id[:16],
                    detail={"reason": reason})


def touch(db: Session, row: StaffSession, *, now: datetime | None = None) -> None:
    """The person is active: the idle clock starts again (written at most every TOUCH_EVERY)."""
    now = now or utcnow()
    if now - row.last_seen_at >= TOUCH_EVERY:
        row = db.merge(row)
        row.last_seen_at = now
        db.commit()


def access_token(ctx: TenantContext, row: StaffSession) -> str:
    return ctx.decrypt("staff_session.access_token", row.access_token)


def refresh_token(ctx: TenantContext, row: StaffSession) -> str | None:
    return ctx.decrypt("staff_session.refresh_token", row.refresh_token) if row.refresh_token else None


def replace_tokens(db: Session, ctx: TenantContext, row: StaffSession, *, access: str, refresh: str | None,
                   expires_at: datetime) -> None:
    """After a refresh at the issuer: the new tokens, encrypted."""
    row = db.merge(row)
    row.access_token = ctx.encrypt("staff_session.access_token", access)
    if refresh:
        row.refresh_token = ctx.encrypt("staff_session.refresh_token", refresh)
    row.token_expires_at = expires_at
    db.commit()


def roles_of(row: StaffSession) -> frozenset[str]:
    return frozenset((row.roles or "").split())

