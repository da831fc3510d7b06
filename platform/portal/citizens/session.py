"""Who is signed in to 我的办事: a citizen session (registry.sessions, kind citizen) under a cookie of its own name
and path, the same idle timeout and CSRF token as the workbench's."""
from dataclasses import dataclass
from urllib.parse import quote

import anyio
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.render import base_path
from portal.workbench.staff import csrf_token, load_session
from registry.sessions.models import SessionKind, SessionState, StaffSession

COOKIE = "fsp_citizen"


@dataclass(frozen=True)
class Citizen:
    """The signed-in citizen, as the pages see them (the registry checks their token on every call anyway)."""
    row: StaffSession
    secret: str

    @property
    def name(self) -> str:
        return self.row.username or ""

    @property
    def csrf(self) -> str:
        return csrf_token(self.secret)


def my_path(request: Request, path: str = "/") -> str:
    return f"{base_path(request)}/my{path}"


def set_cookie(request: Request, response: Response, secret: str) -> None:
    # only 我的办事's paths carry it (the workbench's cookie is another); no script reads it; no other site sends it
    response.set_cookie(COOKIE, secret, path=my_path(request, ""), secure=True, httponly=True, samesite="lax")


def clear_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(COOKIE, path=my_path(request, ""), secure=True, httponly=True, samesite="lax")


async def current(request: Request) -> tuple[Citizen | None, str | None]:
    """The signed-in citizen of this request (their idle clock restarted), or None and why ("idle", "expired")."""
    secret = request.cookies.get(COOKIE)
    found = await anyio.to_thread.run_sync(load_session, request.app.state.ctx, secret, request.app.state.clock(),
                                           SessionKind.citizen)
    if found.row is None or found.ended or found.row.state != SessionState.active:
        return None, found.ended
    return Citizen(found.row, secret), None


def safe_next(request: Request, target: str | None) -> str:
    """Only a path inside 我的办事: `next` must never send someone to another site after sign-in."""
    home = my_path(request)
    if target and target.startswith(home) and "//" not in target and "\\" not in target:
        return target
    return home


def to_sign_in(request: Request, *, ended: str | None = None) -> RedirectResponse:
    # the page asked for, with its query (e.g. which kind of application), to come back to after sign-in
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "") if request.method == "GET" \
        else my_path(request)
    query = f"?next={quote(target, safe='/')}" + (f"&ended={ended}" if ended else "")
    response = RedirectResponse(my_path(request, "/sign-in") + query, status_code=303)
    if ended:
        clear_cookie(request, response)
    return response
