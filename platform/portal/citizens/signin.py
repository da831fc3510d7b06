"""Citizens sign in and out of 我的办事: through the province's government-service identity (the realm's OIDC
code + PKCE, sent straight to that identity provider), or, without Keycloak, a development sign-in that says what
it is, mints only the citizen role, and is refused wherever the tenant has a real issuer."""
import hashlib
import re
from dataclasses import replace
from datetime import datetime

import anyio
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal import catalog
from portal.citizens.session import COOKIE, clear_cookie, current, my_path, safe_next, set_cookie
from portal.citizens.views import citizen_page, message, render
from portal.sign_in_door import SignInDoor
from portal.workbench.forms import Form
from portal.workbench.staff import csrf_ok, csrf_token
from registry.context import TenantContext
from registry.security.permissions import Role
from registry.sessions import service as sessions
from registry.sessions.models import SessionKind, StaffSession

USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
NOTICES = {"idle": "my_ended_idle", "expired": "my_ended_expired", "signed_out": "my_signed_out"}


def development_subject(username: str) -> str:
    """The same development citizen every time they sign in with the same name: what they submitted stays theirs."""
    return "dev-citizen-" + hashlib.sha256(username.encode()).hexdigest()[:16]


def _failed(request: Request, *, status_code: int = 400, text: str = "my_sign_in_failed") -> Response:
    response = message(request, None, heading=catalog.TEXT["my_sign_in_failed_title"], text=catalog.TEXT[text],
                       status_code=status_code, link=(my_path(request, "/sign-in"), catalog.TEXT["my_sign_in_again"]))
    clear_cookie(request, response)
    return response


# only a token with the citizen role and no staff role opens 我的办事 (the session kind checks it)
DOOR = SignInDoor(kind=SessionKind.citizen, action="citizen.sign_in", cookie=COOKIE, path=my_path, set_cookie=set_cookie,
                  clear_cookie=clear_cookie, failed=_failed,
                  idp_hint=lambda ctx: ctx.settings.citizen_identity_provider)
_pending, _begin, _refuse = DOOR.pending, DOOR.begin, DOOR.refuse


async def sign_in_page(request: Request) -> Response:
    """The sign-in page; a citizen already signed in goes on to 我的办事."""
    citizen, _ = await current(request)
    target = safe_next(request, request.query_params.get("next"))
    if citizen is not None:
        return RedirectResponse(target, status_code=303)
    key = NOTICES.get(request.query_params.get("ended", ""))
    notice = catalog.TEXT[key] if key else None
    ctx = request.app.state.ctx
    if not ctx.settings.uses_development_issuer:
        return render(request, "my/sign_in.html", citizen=None, notice=notice, next=target, form=Form())
    return await _development_form(request, Form(), next_path=target, notice=notice)


async def _development_form(request: Request, form: Form, *, next_path: str, notice: str | None = None,
                            status_code: int = 200) -> Response:
    ctx, now = request.app.state.ctx, request.app.state.clock()
    secret = request.cookies.get(COOKIE)
    if await anyio.to_thread.run_sync(_pending, ctx, secret, now) is None:
        secret = await anyio.to_thread.run_sync(_begin, ctx, {"method": "development"}, now)
    response = render(request, "my/sign_in.html", citizen=None, status_code=status_code, notice=notice,
                      next=next_path, form=form, csrf=csrf_token(secret))
    set_cookie(request, response, secret)
    return response


def _sign_in_development(ctx: TenantContext, row: StaffSession, username: str, now: datetime) -> str:
    token = ctx.issuer.mint(development_subject(username), [Role.citizen.value],
                            ttl_seconds=int(sessions.LIFETIME.total_seconds()))
    principal = ctx.verifier.verify(token)
    principal = replace(principal, username=username)  # greeted by the name they typed
    with Session(ctx.engine, expire_on_commit=False) as db:
        return sessions.sign_in(db, ctx, row, principal=principal, method="development", access_token=token,
                                refresh_token=None, token_expires_at=None, now=now)


async def sign_in_development(request: Request) -> Response:
    ctx, now = request.app.state.ctx, request.app.state.clock()
    if not ctx.settings.uses_development_issuer:
        await anyio.to_thread.run_sync(_refuse, ctx, "development_sign_in",
                                       "development sign-in on a tenant with a real issuer")
        return _failed(request, status_code=403, text="my_sign_in_development_disabled")
    posted = await request.form()
    values = {key: str(value).strip() for key, value in posted.items() if isinstance(value, str)}
    secret = request.cookies.get(COOKIE)
    row = await anyio.to_thread.run_sync(_pending, ctx, secret, now)
    next_path = safe_next(request, values.pop("next", None))
    if row is None or not csrf_ok(secret, values.pop("csrf_token", None)):
        return message(request, None, heading=catalog.TEXT["my_csrf_title"], text=catalog.TEXT["my_csrf_refused"],
                       status_code=403, link=(my_path(request, "/sign-in"), catalog.TEXT["my_sign_in_again"]))
    form = Form(values)
    if not USERNAME.match(form.get("username")):
        form.refuse("username", catalog.TEXT["my_sign_in_refused_username"])
        return await _development_form(request, form, next_path=next_path, status_code=400)
    new_secret = await anyio.to_thread.run_sync(_sign_in_development, ctx, row, form.get("username"), now)
    response = RedirectResponse(next_path, status_code=303)
    set_cookie(request, response, new_secret)
    return response


async def start_oidc(request: Request) -> Response:
    """Off to the realm, straight on to the government-service identity provider, with a pending session."""
    return await DOOR.start_oidc(request, safe_next)


async def callback(request: Request) -> Response:
    return await DOOR.callback(request, safe_next)


@citizen_page
async def sign_out(request: Request, citizen) -> Response:
    return await DOOR.sign_out(request, citizen.secret, citizen.row)
