"""Who is signed in on a request: the session cookie, the idle timeout, and the CSRF token of every form."""
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

import anyio
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.render import base_path
from portal.workbench.text import ROLE_NAMES, STAFF
from registry.context import TenantContext
from registry.security.permissions import Permission, permissions_of
from registry.sessions import service as sessions
from registry.sessions.models import SessionKind, SessionState, StaffSession

COOKIE = "fsp_staff"


@dataclass(frozen=True)
class Staff:
    """The signed-in person, as the pages see them (the registry checks their token on every call anyway)."""
    row: StaffSession
    secret: str

    @property
    def name(self) -> str:
        return self.row.username or self.row.subject or ""

    @property
    def roles(self) -> frozenset[str]:
        return sessions.roles_of(self.row)

    @property
    def role_titles(self) -> str:
        """The roles in Chinese, e.g. `登记员、审核员`."""
        return STAFF["role_names_sep"].join(ROLE_NAMES.get(role, role) for role in sorted(self.roles))

    def can(self, permission: Permission | str) -> bool:
        return Permission(permission) in permissions_of(self.roles)

    @property
    def csrf(self) -> str:
        return csrf_token(self.secret)


def csrf_token(secret: str) -> str:
    """Bound to the session's secret, which only the person's cookie holds: another site cannot know it (the
    citizens' 我的办事 uses the same, with its own sessions)."""
    return hmac.new(secret.encode(), b"fsp-workbench-csrf", hashlib.sha256).hexdigest()


def csrf_ok(secret: str, submitted: str | None) -> bool:
    return bool(submitted) and hmac.compare_digest(csrf_token(secret), submitted)


def ctx_of(request: Request) -> TenantContext:
    return request.app.state.ctx


def workbench_path(request: Request, path: str = "/") -> str:
    return f"{base_path(request)}/workbench{path}"


def set_cookie(request: Request, response: Response, secret: str) -> None:
    # only the workbench's paths carry it; no script reads it; another site's form post does not send it
    response.set_cookie(COOKIE, secret, path=workbench_path(request, ""), secure=True, httponly=True, samesite="lax")


def clear_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, path=workbench_path(request, ""), secure=True, httponly=True, samesite="lax")


def load_session(ctx: TenantContext, secret: str | None, now: datetime | None,
                 kind: SessionKind = SessionKind.staff) -> sessions.Found:
    """The live session of this kind a cookie names (staff here, citizens in portal.citizens), its idle clock
    restarted; one that just ran out is closed (and its sign-out audited)."""
    with Session(ctx.engine, expire_on_commit=False) as db:
        found = sessions.find(db, secret, now=now, kind=kind)
        if found.row is not None and found.ended:
            sessions.end(db, ctx, found.row, reason=found.ended, now=now)
        elif found.row is not None and found.row.state == SessionState.active:
            sessions.touch(db, found.row, now=now)
        return found


async def current(request: Request) -> tuple[Staff | None, str | None]:
    """The signed-in person of this request (their idle clock restarted), or None and why ("idle", "expired")."""
    secret = request.cookies.get(COOKIE)
    found = await anyio.to_thread.run_sync(load_session, ctx_of(request), secret, request.app.state.clock())
    if found.row is None or found.ended or found.row.state != SessionState.active:
        return None, found.ended
    return Staff(found.row, secret), None


def to_sign_in(request: Request, *, ended: str | None = None) -> RedirectResponse:
    """Back to the sign-in page, remembering where the person was going (a path of this workbench only)."""
    target = request.url.path if request.method == "GET" else workbench_path(request)
    query = f"?next={target}" + (f"&ended={ended}" if ended else "")
    response = RedirectResponse(workbench_path(request, "/sign-in") + query, status_code=303)
    if ended:
        clear_cookie(request, response)
    return response


def safe_next(request: Request, target: str | None) -> str:
    """Only a path inside this workbench: `next` must never send someone to another site after sign-in."""
    home = workbench_path(request)
    if target and target.startswith(home) and "//" not in target and "\\" not in target:
        return target
    return home
