"""What every page of 我的办事 shares: who is signed in, the layout's context, refusals, and safe headers."""
from collections.abc import Awaitable, Callable

import anyio
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from portal import catalog
from portal.citizens.session import Citizen, clear_cookie, current, my_path, to_sign_in
from portal.render import Page, page
from portal.workbench import oidc
from portal.workbench.forms import CsrfRefused
from portal.workbench.views import HEADERS
from registry.sessions import service as sessions

Handler = Callable[[Request, Citizen], Awaitable[Response]]


def render(request: Request, template: str, *, citizen: Citizen | None, status_code: int = 200, **context) -> Page:
    """A page of 我的办事 in the portal's layout, with the development banner where tokens are minted locally."""
    response = page(request, template, status_code=status_code, province=request.app.state.province,
                    citizen=citizen, development=request.app.state.ctx.settings.uses_development_issuer, **context)
    request.app.state.page_views.labels(page=response.name).inc()
    response.headers.update(HEADERS)
    return response


def message(request: Request, citizen: Citizen | None, *, heading: str, text: str, status_code: int,
            link: tuple[str, str] | None = None) -> Page:
    href, label = link or (my_path(request), catalog.TEXT["my_back"])
    return render(request, "my/message.html", citizen=citizen, status_code=status_code, heading=heading,
                  message=text, link_href=href, link_text=label)


def _refuse_form(ctx, citizen: Citizen) -> None:
    ctx.journal.refused(actor=citizen.row.subject or "anonymous", action="citizen.form", status=403,
                        problems=[{"field": "csrf_token", "rule": "csrf_token", "message": "form without this "
                                   "session's CSRF token: not acted on"}])


def _end(ctx, citizen: Citizen, reason: str) -> None:
    with Session(ctx.engine, expire_on_commit=False) as db:
        sessions.end(db, ctx, citizen.row, reason=reason)


def citizen_page(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A page for a signed-in citizen: others go to sign-in; a form without the session's CSRF token is refused
    and audited. What the citizen may do is the registry's to decide, on each call with their token."""
    async def endpoint(request: Request) -> Response:
        citizen, ended = await current(request)
        if citizen is None:
            return to_sign_in(request, ended=ended)
        try:
            response = await handler(request, citizen)
        except CsrfRefused:
            await anyio.to_thread.run_sync(_refuse_form, request.app.state.ctx, citizen)
            return message(request, citizen, heading=catalog.TEXT["my_csrf_title"],
                           text=catalog.TEXT["my_csrf_refused"], status_code=403)
        except oidc.SignInFailed:
            # the issuer no longer renews this session: sign in again
            await anyio.to_thread.run_sync(_end, request.app.state.ctx, citizen, "expired")
            response = to_sign_in(request, ended="expired")
            clear_cookie(request, response)
            return response
        own_policy = response.headers.get("Content-Security-Policy")  # a page whose forms lead elsewhere says where
        response.headers.update(HEADERS)
        if own_policy:
            response.headers["Content-Security-Policy"] = own_policy
        return response
    return endpoint
