"""What the workbench's and 我的办事's sign-ins share: a pending session in the browser's cookie, the realm's OIDC
code + PKCE there and back, and signing out here and at the realm. Each door says only what is its own."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import anyio
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from portal.workbench import oidc
from portal.workbench.forms import CsrfRefused
from portal.workbench.staff import csrf_ok
from registry.context import TenantContext
from registry.sessions import service as sessions
from registry.sessions.models import SessionKind, SessionState, StaffSession


@dataclass(frozen=True)
class SignInDoor:
    kind: SessionKind
    # the audit action a refused sign-in is recorded under
    action: str
    cookie: str
    path: Callable[[Request, str], str]
    set_cookie: Callable[[Request, Response, str], None]
    clear_cookie: Callable[[Request, Response], None]
    # the page that says the sign-in failed (it clears the cookie)
    failed: Callable[[Request], Response]
    # the identity provider the realm should send this door's people straight to, if any
    idp_hint: Callable[[TenantContext], str | None] = lambda ctx: None

    def pending(self, ctx: TenantContext, secret: str | None, now: datetime) -> StaffSession | None:
        """The sign-in this browser started and has not finished, if any."""
        with Session(ctx.engine, expire_on_commit=False) as db:
            found = sessions.find(db, secret, now=now, kind=self.kind)
        if found.row is None or found.ended or found.row.state != SessionState.pending:
            return None
        return found.row

    def begin(self, ctx: TenantContext, pending: dict, now: datetime) -> str:
        with Session(ctx.engine) as db:
            return sessions.begin(db, ctx, pending=pending, now=now, kind=self.kind)

    def refuse(self, ctx: TenantContext, rule: str, detail: str) -> None:
        ctx.journal.refused(actor="anonymous", action=self.action, status=401,
                            problems=[{"field": "sign_in", "rule": rule, "message": detail}])

    def _url(self, request: Request, path: str) -> str:
        return f"{request.url.scheme}://{request.url.netloc}{self.path(request, path)}"

    async def start_oidc(self, request: Request, safe_next: Callable[[Request, str | None], str]) -> Response:
        """Off to the realm with a pending session holding the PKCE verifier, state and nonce."""
        ctx, now = request.app.state.ctx, request.app.state.clock()
        if ctx.settings.uses_development_issuer:
            return RedirectResponse(self.path(request, "/sign-in"), status_code=303)
        callback = self._url(request, "/callback")
        try:
            url, pending = await anyio.to_thread.run_sync(
                lambda: oidc.authorization_url(ctx, callback, idp_hint=self.idp_hint(ctx)))
        except oidc.SignInFailed as exc:
            await anyio.to_thread.run_sync(self.refuse, ctx, "issuer_unreachable", str(exc))
            return self.failed(request)
        pending["next"] = safe_next(request, request.query_params.get("next"))
        secret = await anyio.to_thread.run_sync(self.begin, ctx, pending, now)
        response = RedirectResponse(url, status_code=303)
        self.set_cookie(request, response, secret)
        return response

    def _complete(self, ctx: TenantContext, row: StaffSession, code: str, state: str, now: datetime) -> tuple[str, str]:
        pending = sessions.pending_of(ctx, row)
        principal, token = oidc.exchange_code(ctx, pending, code=code, state=state, kind=self.kind)
        with Session(ctx.engine, expire_on_commit=False) as db:
            secret = sessions.sign_in(db, ctx, row, principal=principal, method="oidc",
                                      access_token=token["access_token"], refresh_token=token.get("refresh_token"),
                                      token_expires_at=oidc.token_expiry(token), now=now)
        return secret, pending.get("next", "")

    async def callback(self, request: Request, safe_next: Callable[[Request, str | None], str]) -> Response:
        """Back from the realm: the code is exchanged (with the PKCE verifier) and checked before anyone is in."""
        ctx, now = request.app.state.ctx, request.app.state.clock()
        row = await anyio.to_thread.run_sync(self.pending, ctx, request.cookies.get(self.cookie), now)
        params = request.query_params
        if row is None or "error" in params or not params.get("code"):
            reason = params.get("error") or ("no pending sign-in in this browser" if row is None else "no code")
            await anyio.to_thread.run_sync(self.refuse, ctx, "sign_in_failed", f"sign-in not completed: {reason[:100]}")
            return self.failed(request)
        try:
            secret, target = await anyio.to_thread.run_sync(self._complete, ctx, row, params["code"],
                                                            params.get("state", ""), now)
        except oidc.SignInFailed as exc:
            await anyio.to_thread.run_sync(self.refuse, ctx, "sign_in_failed", str(exc))
            return self.failed(request)
        response = RedirectResponse(safe_next(request, target), status_code=303)
        self.set_cookie(request, response, secret)
        return response

    async def sign_out(self, request: Request, secret: str, row: StaffSession) -> Response:
        """Ends the session here (and, with Keycloak, at the realm too); the cookie goes."""
        posted = await request.form()
        if not csrf_ok(secret, str(posted.get("csrf_token", ""))):
            raise CsrfRefused()
        ctx = request.app.state.ctx
        await anyio.to_thread.run_sync(self._end, ctx, row, request.app.state.clock())
        after = self._url(request, "/sign-in") + "?ended=signed_out"
        realm_sign_out = None
        if row.method == "oidc":
            realm_sign_out = await anyio.to_thread.run_sync(lambda: oidc.end_session_url(ctx, after=after))
        response = RedirectResponse(realm_sign_out or after, status_code=303)
        self.clear_cookie(request, response)
        return response

    @staticmethod
    def _end(ctx: TenantContext, row: StaffSession, now: datetime) -> None:
        with Session(ctx.engine, expire_on_commit=False) as db:
            sessions.end(db, ctx, row, reason="signed_out", now=now)
