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
from portal.workbench import oidc
from portal.workbench.forms import CsrfRefused, Form
from portal.workbench.staff import csrf_ok, csrf_token
from registry.context import TenantContext
from registry.security.permissions import Role
from registry.sessions import service as sessions
from registry.sessions.models import SessionKind, SessionState, StaffSession

USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
NOTICES = {"idle": "my_ended_idle", "expired": "my_ended_expired", "signed_out": "my_signed_out"}
CITIZEN = SessionKind.citizen


def development_subject(username: str) -> str:
    """The same development citizen every time they sign in with the same name: what they submitted stays theirs."""
    return "dev-citizen-" + hashlib.sha256(username.encode()).hexdigest()[:16]


def _pending(ctx: TenantContext, secret: str | None, now: datetime) -> StaffSession | None:
    with Session(ctx.engine, expire_on_commit=False) as db:
        found = sessions.find(db, secret, now=now, kind=CITIZEN)
    if found.row is None or found.ended or found.row.state != SessionState.pending:
        return None
    return found.row


def _begin(ctx: TenantContext, pending: dict, now: datetime) -> str:
    with Session(ctx.engine) as db:
        return sessions.begin(db, ctx, pending=pending, now=now, kind=CITIZEN)


def _refuse(ctx: TenantContext, rule: str, detail: str) -> None:
    ctx.journal.refused(actor="anonymous", action="citizen.sign_in", status=401,
                        problems=[{"field": "sign_in", "rule": rule, "message": detail}])


def _failed(request: Request, *, status_code: int = 400, text: str = "my_sign_in_failed") -> Response:
    response = message(request, None, heading=catalog.TEXT["my_sign_in_failed_title"], text=catalog.TEXT[text],
                       status_code=status_code, link=(my_path(request, "/sign-in"), catalog.TEXT["my_sign_in_again"]))
    clear_cookie(request, response)
    return response


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
    ctx, now = request.app.state.ctx, request.app.state.clock()
    if ctx.settings.uses_development_issuer:
        return RedirectResponse(my_path(request, "/sign-in"), status_code=303)
    callback = f"{request.url.scheme}://{request.url.netloc}{my_path(request, '/callback')}"
    try:
        url, pending = await anyio.to_thread.run_sync(
            lambda: oidc.authorization_url(ctx, callback, idp_hint=ctx.settings.citizen_identity_provider))
    except oidc.SignInFailed as exc:
        await anyio.to_thread.run_sync(_refuse, ctx, "issuer_unreachable", str(exc))
        return _failed(request)
    pending["next"] = safe_next(request, request.query_params.get("next"))
    secret = await anyio.to_thread.run_sync(_begin, ctx, pending, now)
    response = RedirectResponse(url, status_code=303)
    set_cookie(request, response, secret)
    return response


def _complete(ctx: TenantContext, row: StaffSession, code: str, state: str, now: datetime) -> tuple[str, str]:
    pending = sessions.pending_of(ctx, row)
    principal, token = oidc.exchange_code(ctx, pending, code=code, state=state, kind=CITIZEN)
    with Session(ctx.engine, expire_on_commit=False) as db:
        secret = sessions.sign_in(db, ctx, row, principal=principal, method="oidc", access_token=token["access_token"],
                                  refresh_token=token.get("refresh_token"), token_expires_at=oidc.token_expiry(token),
                                  now=now)
    return secret, pending.get("next", "")


async def callback(request: Request) -> Response:
    """Back from the realm: the code is exchanged (with the PKCE verifier) and checked before anyone is in; only a
    token with the citizen role and no staff role opens 我的办事."""
    ctx, now = request.app.state.ctx, request.app.state.clock()
    row = await anyio.to_thread.run_sync(_pending, ctx, request.cookies.get(COOKIE), now)
    params = request.query_params
    if row is None or "error" in params or not params.get("code"):
        reason = params.get("error") or ("no pending sign-in in this browser" if row is None else "no code")
        await anyio.to_thread.run_sync(_refuse, ctx, "sign_in_failed", f"sign-in not completed: {reason[:100]}")
        return _failed(request)
    try:
        secret, target = await anyio.to_thread.run_sync(_complete, ctx, row, params["code"], params.get("state", ""),
                                                        now)
    except oidc.SignInFailed as exc:
        await anyio.to_thread.run_sync(_refuse, ctx, "sign_in_failed", str(exc))
        return _failed(request)
    response = RedirectResponse(safe_next(request, target), status_code=303)
    set_cookie(request, response, secret)
    return response


def _sign_out(ctx: TenantContext, row: StaffSession, now: datetime) -> None:
    with Session(ctx.engine, expire_on_commit=False) as db:
        sessions.end(db, ctx, row, reason="signed_out", now=now)


@citizen_page
async def sign_out(request: Request, citizen) -> Response:
    """Ends the session here (and, with Keycloak, at the realm too); the cookie goes."""
    posted = await request.form()
    if not csrf_ok(citizen.secret, str(posted.get("csrf_token", ""))):
        raise CsrfRefused()
    ctx = request.app.state.ctx
    await anyio.to_thread.run_sync(_sign_out, ctx, citizen.row, request.app.state.clock())
    after = f"{request.url.scheme}://{request.url.netloc}{my_path(request, '/sign-in')}?ended=signed_out"
    realm_sign_out = None
    if citizen.row.method == "oidc":
        realm_sign_out = await anyio.to_thread.run_sync(lambda: oidc.end_session_url(ctx, after=after))
    response = RedirectResponse(realm_sign_out or after, status_code=303)
    clear_cookie(request, response)
    return response
