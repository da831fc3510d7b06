"""What every workbench page shares: who is signed in, the layout's context, refusals, and safe headers."""
from collections.abc import Awaitable, Callable

import anyio
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from portal.render import Page, page
from portal.workbench import oidc
from portal.workbench.forms import CsrfRefused
from portal.workbench.staff import Staff, clear_cookie, ctx_of, current, to_sign_in, workbench_path
from portal.workbench.text import STAFF
from registry.sessions import service as sessions

# pages show personal data: never kept by a browser or a proxy, never framed by another site
HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache", "X-Frame-Options": "DENY",
           "Content-Security-Policy": "frame-ancestors 'none'; form-action 'self'", "Referrer-Policy": "same-origin"}

Handler = Callable[[Request, Staff], Awaitable[Response]]


def render(request: Request, template: str, *, staff: Staff | None, status_code: int = 200, **context) -> Page:
    """A workbench page in the one layout, with the development banner where tokens are minted locally."""
    province = request.app.state.province
    response = page(request, template, status_code=status_code, province=province, staff=staff,
                    development=ctx_of(request).settings.uses_development_issuer, **context)
    request.app.state.page_views.labels(page=response.name).inc()
    response.headers.update(HEADERS)
    return response


def message(request: Request, staff: Staff | None, *, heading: str, text: str, status_code: int,
            link: tuple[str, str] | None = None) -> Page:
    href, label = link or (workbench_path(request), STAFF["back_to_workbench"])
    return render(request, "workbench/message.html", staff=staff, status_code=status_code, heading=heading,
                  message=text, link_href=href, link_text=label)


def not_found(request: Request, staff: Staff) -> Page:
    return message(request, staff, heading=STAFF["not_found_title"], text=STAFF["not_found"], status_code=404)


def _refuse_form(ctx, staff: Staff) -> None:
    ctx.journal.refused(actor=staff.row.subject or "anonymous", action="staff.form", status=403,
                        problems=[{"field": "csrf_token", "rule": "csrf_token", "message": "form without this "
                                   "session's CSRF token: not acted on"}])


def _end(ctx, staff: Staff, reason: str) -> None:
    with Session(ctx.engine, expire_on_commit=False) as db:
        sessions.end(db, ctx, staff.row, reason=reason)


def staff_page(permission: str | None = None) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """A page for signed-in staff (holding `permission`, if given): others go to sign-in, or see why not."""
    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            staff, ended = await current(request)
            if staff is None:
                return to_sign_in(request, ended=ended)
            if permission and not staff.can(permission):
                return message(request, staff, heading=STAFF["forbidden_title"], text=STAFF["forbidden"],
                               status_code=403)
            try:
                response = await handler(request, staff)
            except CsrfRefused:
                await anyio.to_thread.run_sync(_refuse_form, ctx_of(request), staff)
                return message(request, staff, heading=STAFF["csrf_title"], text=STAFF["csrf_refused"],
                               status_code=403)
            except oidc.SignInFailed:
                # the issuer no longer renews this session (ended there, or disabled): sign in again
                await anyio.to_thread.run_sync(_end, ctx_of(request), staff, "expired")
                response = to_sign_in(request, ended="expired")
                clear_cookie(request, response)
                return response
            response.headers.update(HEADERS)
            return response
        return endpoint
    return wrap
