"""Sign-in through the tenant's Keycloak realm: OpenID Connect authorization code with PKCE (S256), by authlib.

The portal is the realm's public client `registry-portal` (no secret to keep): staff sign in to the workbench,
citizens to 我的办事 (portal.citizens, through the province's government-service identity: `idp_hint`). The
access token it receives is the one the registry's API checks, so it is verified by the same verifier before
anyone is signed in, and its roles must belong where the sign-in was made (registry.sessions.fits).
"""
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import anyio
import jwt
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from sqlmodel import Session
from starlette.requests import Request

from registry.context import TenantContext
from registry.errors import Unauthorized
from registry.security.auth import ALGORITHM, LEEWAY_SECONDS, Principal
from registry.sessions import service as sessions
from registry.sessions.models import SessionKind

# a token that would expire within this is refreshed before the registry is called with it
REFRESH_MARGIN = timedelta(seconds=30)
TIMEOUT_SECONDS = 10


class SignInFailed(Exception):
    """The issuer refused, or answered something that must not sign anyone in (say why, never a secret)."""


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    end_session: str | None


_discovered: dict[str, tuple[float, Endpoints]] = {}
_discovered_lock = threading.Lock()


def endpoints(issuer: str) -> Endpoints:
    """The realm's endpoints from its discovery document, kept for an hour."""
    with _discovered_lock:
        kept = _discovered.get(issuer)
        if kept and kept[0] > time.monotonic():
            return kept[1]
    try:
        response = requests.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration", timeout=TIMEOUT_SECONDS)
        response.raise_for_status()
        document = response.json()
        found = Endpoints(document["authorization_endpoint"], document["token_endpoint"],
                          document.get("end_session_endpoint"))
    except (requests.RequestException, ValueError, KeyError) as exc:
        raise SignInFailed(f"cannot read the issuer's OpenID configuration: {type(exc).__name__}") from None
    with _discovered_lock:
        _discovered[issuer] = (time.monotonic() + 3600, found)
    return found


def _client(ctx: TenantContext, redirect_uri: str | None = None) -> OAuth2Session:
    return OAuth2Session(client_id=ctx.settings.workbench_client_id, redirect_uri=redirect_uri,
                         scope="openid", code_challenge_method="S256")


def authorization_url(ctx: TenantContext, redirect_uri: str, *, idp_hint: str | None = None) -> tuple[str, dict]:
    """Where to send the person, and what to keep until they come back (state, PKCE verifier, nonce).
    `idp_hint`: the realm's identity provider to go straight to (Keycloak's `kc_idp_hint`)."""
    verifier, nonce = generate_token(64), generate_token(32)
    extra = {"kc_idp_hint": idp_hint} if idp_hint else {}
    url, state = _client(ctx, redirect_uri).create_authorization_url(
        endpoints(ctx.settings.issuer).authorization, code_verifier=verifier, nonce=nonce, **extra)
    return url, {"state": state, "code_verifier": verifier, "nonce": nonce, "redirect_uri": redirect_uri}


def token_expiry(token: dict) -> datetime:
    """When the issuer's access token runs out."""
    return datetime.now(UTC) + timedelta(seconds=int(token.get("expires_in") or 60))


def exchange_code(ctx: TenantContext, pending: dict, *, code: str, state: str,
                  kind: SessionKind = SessionKind.staff) -> tuple[Principal, dict]:
    """The tokens for an authorization code, checked: state, ID token (signature, audience, nonce), the access
    token by the registry's own verifier, and its roles for a session of `kind`. Blocking: run it off the loop."""
    if not state or state != pending.get("state"):
        raise SignInFailed("the sign-in's state does not match the one this browser started")
    client = _client(ctx, pending["redirect_uri"])
    try:
        token = client.fetch_token(endpoints(ctx.settings.issuer).token, code=code, grant_type="authorization_code",
                                   code_verifier=pending["code_verifier"], timeout=TIMEOUT_SECONDS)
    except Exception as exc:  # authlib raises OAuthError, requests its own: either way nobody signs in
        raise SignInFailed(f"the issuer refused the authorization code: {getattr(exc, 'error', type(exc).__name__)}") \
            from None
    _check_id_token(ctx, token.get("id_token"), nonce=pending["nonce"])
    try:
        principal = ctx.verifier.verify(token["access_token"])
    except (Unauthorized, KeyError) as exc:
        raise SignInFailed(f"the access token is not one the registry accepts: {exc}") from None
    if not sessions.fits(kind, principal.roles):
        raise SignInFailed(f"the roles {sorted(principal.roles)} do not belong in a {kind.value} session")
    return principal, token


def _check_id_token(ctx: TenantContext, id_token: str | None, *, nonce: str) -> None:
    if not id_token:
        raise SignInFailed("the issuer sent no ID token")
    try:
        key = ctx.verifier.keys.fetch(jwt.get_unverified_header(id_token).get("kid"))
        claims = jwt.decode(id_token, key, algorithms=[ALGORITHM], audience=ctx.settings.workbench_client_id,
                            issuer=ctx.settings.issuer, leeway=LEEWAY_SECONDS)
    except (jwt.PyJWTError, Unauthorized) as exc:
        raise SignInFailed(f"the ID token is not valid: {exc}") from None
    if claims.get("nonce") != nonce:
        raise SignInFailed("the ID token was not issued for this sign-in (nonce)")


def end_session_url(ctx: TenantContext, *, after: str) -> str | None:
    """Keycloak's sign-out page, which ends the realm session too and comes back to `after`."""
    try:
        found = endpoints(ctx.settings.issuer).end_session
    except SignInFailed:
        return None
    if not found:
        return None
    return f"{found}?{urlencode({'client_id': ctx.settings.workbench_client_id, 'post_logout_redirect_uri': after})}"


def _refresh(ctx: TenantContext, staff_row) -> str:
    refresh = sessions.refresh_token(ctx, staff_row)
    if refresh is None:
        raise SignInFailed("the session's token expired and cannot be renewed")
    try:
        token = _client(ctx).refresh_token(endpoints(ctx.settings.issuer).token, refresh_token=refresh,
                                           timeout=TIMEOUT_SECONDS)
    except Exception as exc:
        raise SignInFailed(f"the issuer refused to renew the session: {getattr(exc, 'error', type(exc).__name__)}") \
            from None
    with Session(ctx.engine) as db:
        sessions.replace_tokens(db, ctx, staff_row, access=token["access_token"], refresh=token.get("refresh_token"),
                                expires_at=token_expiry(token))
    return token["access_token"]


async def fresh_access_token(request: Request, person) -> str:
    """The session's access token (staff's or a citizen's), renewed at the issuer first when about to expire."""
    ctx = request.app.state.ctx
    row = person.row
    expires = row.token_expires_at
    if expires is None or expires - request.app.state.clock() > REFRESH_MARGIN:
        return sessions.access_token(ctx, row)
    return await anyio.to_thread.run_sync(_refresh, ctx, row)
