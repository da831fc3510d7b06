"""Signing in and out: the realm's sign-in (OIDC code + PKCE) or, without Keycloak, a development sign-in that
says what it is and is refused wherever the tenant has a real issuer."""
import re
import uuid
from datetime import datetime

import anyio
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.render import Page
from portal.sign_in_door import SignInDoor
from portal.workbench.forms import Form
from portal.workbench.staff import (
    COOKIE,
    clear_cookie,
    csrf_ok,
    csrf_token,
    ctx_of,
    current,
    safe_next,
    set_cookie,
    workbench_path,
)
from portal.workbench.text import ROLE_NAMES, STAFF
from portal.workbench.views import message, render, staff_page
from registry.context import TenantContext
from registry.errors import NotFound
from registry.institutions import service as institutions
from registry.security.permissions import INSTITUTION_BOUND, STAFF_ROLES
from registry.sessions import service as sessions
from registry.sessions.models import SessionKind, StaffSession

USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
NOTICES = {"idle": "ended_idle", "expired": "ended_expired", "signed_out": "signed_out"}


def _institutions(ctx: TenantContext) -> list[tuple[str, str]]:
    with Session(ctx.engine) as db:
        return [(str(row.id), row.name) for row in institutions.list_institutions(db, offset=0, limit=500)]


async def sign_in_page(request: Request) -> Response:
    """The sign-in page; someone already signed in goes on to the workbench."""
    staff, _ = await current(request)
    target = safe_next(request, request.query_params.get("next"))
    if staff is not None:
        return RedirectResponse(target, status_code=303)
    ctx = ctx_of(request)
    notice_key = NOTICES.get(request.query_params.get("ended", ""))
    notice = STAFF[notice_key] if notice_key else None
    if not ctx.settings.uses_development_issuer:
        return render(request, "workbench/sign_in.html", staff=None, notice=notice, next=target, form=Form())
    return await _development_form(request, Form(), next_path=target, notice=notice)


async def _development_form(request: Request, form: Form, *, next_path: str, notice: str | None = None,
                            status_code: int = 200) -> Response:
    ctx, now = ctx_of(request), request.app.state.clock()
    secret = request.cookies.get(COOKIE)
    if await anyio.to_thread.run_sync(_pending, ctx, secret, now) is None:
        secret = await anyio.to_thread.run_sync(_begin, ctx, {"method": "development"}, now)
    choices = await anyio.to_thread.run_sync(_institutions, ctx)
    response = render(request, "workbench/sign_in.html", staff=None, status_code=status_code, notice=notice,
                      next=next_path, form=form, csrf=csrf_token(secret),
                      roles=[(role.value, ROLE_NAMES.get(role.value, role.value)) for role in STAFF_ROLES],
                      institutions=choices)
    set_cookie(request, response, secret)
    return response


def _check_development(ctx: TenantContext, form: Form) -> tuple[str, uuid.UUID | None]:
    """The role and institution a development sign-in asks for, or the form's refusals."""
    if not USERNAME.match(form.get("username")):
        form.refuse("username", STAFF["sign_in_refused_username"])
    role = form.get("role")
    if role not in {r.value for r in STAFF_ROLES}:
        form.refuse("role", STAFF["sign_in_refused_role"])
    institution_id = None
    if form.get("institution_id"):
        try:
            institution_id = uuid.UUID(form.get("institution_id"))
            with Session(ctx.engine) as db:
                institutions.get_institution(db, institution_id=institution_id)
        except (ValueError, NotFound):
            form.refuse("institution_id", STAFF["sign_in_refused_institution_unknown"])
    elif role in {r.value for r in INSTITUTION_BOUND}:
        form.refuse("institution_id", STAFF["sign_in_refused_institution"])
    return role, institution_id


def _sign_in_development(ctx: TenantContext, row: StaffSession, username: str, role: str,
                         institution_id: uuid.UUID | None, now: datetime) -> str:
    token = ctx.issuer.mint(username, [role], institution_id=institution_id,
                            ttl_seconds=int(sessions.LIFETIME.total_seconds()))
    principal = ctx.verifier.verify(token)
    with Session(ctx.engine, expire_on_commit=False) as db:
        return sessions.sign_in(db, ctx, row, principal=principal, method="development", access_token=token,
                                refresh_token=None, token_expires_at=None, now=now)


async def sign_in_development(request: Request) -> Response:
    ctx, now = ctx_of(request), request.app.state.clock()
    if not ctx.settings.uses_development_issuer:
        await anyio.to_thread.run_sync(_refuse, ctx, "development_sign_in", "development sign-in on a tenant "
                                       "with a real issuer")
        return message(request, None, heading=STAFF["sign_in_failed_title"],
                       text=STAFF["sign_in_development_disabled"], status_code=403,
                       link=(workbench_path(request, "/sign-in"), STAFF["sign_in_again"]))
    posted = await request.form()
    values = {key: str(value).strip() for key, value in posted.items() if isinstance(value, str)}
    secret = request.cookies.get(COOKIE)
    row = await anyio.to_thread.run_sync(_pending, ctx, secret, now)
    next_path = safe_next(request, values.pop("next", None))
    if row is None or not csrf_ok(secret, values.pop("csrf_token", None)):
        return message(request, None, heading=STAFF["csrf_title"], text=STAFF["csrf_refused"], status_code=403,
                       link=(workbench_path(request, "/sign-in"), STAFF["sign_in_again"]))
    form = Form(values)
    role, institution_id = await anyio.to_thread.run_sync(_check_development, ctx, form)
    if form.errors:
        return await _development_form(request, form, next_path=next_path, status_code=400)
    new_secret = await anyio.to_thread.run_sync(_sign_in_development, ctx, row, form.get("username"), role,
                                                institution_id, now)
    response = RedirectResponse(next_path, status_code=303)
    set_cookie(request, response, new_secret)
    return response


def _failed(request: Request) -> Page:
    response = message(request, None, heading=STAFF["sign_in_failed_title"], text=STAFF["sign_in_failed"],
                       status_code=400, link=(workbench_path(request, "/sign-in"), STAFF["sign_in_again"]))
    clear_cookie(request, response)
    return response


DOOR = SignInDoor(kind=SessionKind.staff, action="staff.sign_in", cookie=COOKIE, path=workbench_path,
                  set_cookie=set_cookie, clear_cookie=clear_cookie, failed=_failed)
_pending, _begin, _refuse = DOOR.pending, DOOR.begin, DOOR.refuse


async def start_oidc(request: Request) -> Response:
    """Off to the realm's sign-in page, with a pending session holding the PKCE verifier, state and nonce."""
    return await DOOR.start_oidc(request, safe_next)


async def callback(request: Request) -> Response:
    return await DOOR.callback(request, safe_next)


@staff_page()
async def sign_out(request: Request, staff) -> Response:
    return await DOOR.sign_out(request, staff.secret, staff.row)
