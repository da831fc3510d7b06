"""A Keycloak-compatible test double: the admin and OIDC endpoints python-keycloak and the registry use.

Every admin request body is checked against Keycloak's published admin API document before it is acted on
(a 400 naming the field otherwise), and an admin path the document does not have is a 404: the double cannot
drift from the real API. Tokens are RS256 JWTs signed with per-realm keys published as JWKS; audience and
user-attribute protocol mappers shape them as in Keycloak.
"""
import base64
import hashlib
import html
import secrets
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from kc_double.admin import MASTER, AdminEndpoints, keycloak_error
from kc_double.schema import AdminApi
from kc_double.state import Realm, SigningKey, User


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


@dataclass
class _Code:
    """An authorization code Keycloak handed out: single use, short-lived, bound to client, redirect and PKCE."""
    client_id: str
    redirect_uri: str
    user_id: str
    nonce: str | None
    challenge: str | None
    expires: float


class KeycloakDouble(AdminEndpoints):
    """State plus the ASGI app; `admin_username`/`admin_password` sign in to the master realm's admin-cli."""

    def __init__(self, admin_username: str = "kc-bootstrap", admin_password: str | None = None):
        self.admin_username = admin_username
        self.admin_password = admin_password or secrets.token_urlsafe(16)
        self.api = AdminApi()
        self.rejected: list[tuple[str, str, list[str]]] = []  # admin bodies refused by the schema
        self.reset()
        self.app = Starlette(routes=[
            Route("/realms/{realm}/protocol/openid-connect/token", self.token, methods=["POST"]),
            Route("/realms/{realm}/protocol/openid-connect/auth", self.authorize, methods=["GET", "POST"]),
            Route("/realms/{realm}/protocol/openid-connect/logout", self.logout, methods=["GET"]),
            Route("/realms/{realm}/protocol/openid-connect/certs", self.certs, methods=["GET"]),
            Route("/realms/{realm}/.well-known/openid-configuration", self.discovery, methods=["GET"]),
            Route("/admin/realms{path:path}", self.admin, methods=["GET", "POST", "PUT", "DELETE"]),
        ])
        self._admin_routes = self.admin_routes()

    # --- hooks for tests -----------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every realm but master (with its admin account)."""
        master = Realm(MASTER, {"accessTokenLifespan": 60})
        master.add_client({"clientId": "admin-cli", "publicClient": True, "directAccessGrantsEnabled": True,
                           "standardFlowEnabled": False})
        admin = master.add_user({"username": self.admin_username, "enabled": True})
        admin.password = self.admin_password
        admin.roles.add("admin")
        self.realms: dict[str, Realm] = {MASTER: master}
        self.rejected.clear()
        self.codes: dict[str, _Code] = {}
        self.logged_out = 0  # RP-initiated sign-outs received
        self.certs_served = 0  # JWKS fetches, to see a verifier's cache at work

    def rotate_keys(self, realm: str) -> SigningKey:
        """A new active signing key; the old one stays published (as Keycloak keeps a passive key)."""
        key = SigningKey.new()
        self.realms[realm].keys.append(key)
        return key

    def sign(self, realm: str, claims: dict, *, key: SigningKey | None = None) -> str:
        """A token signed with the realm's own key, with any claims (for expired or odd tokens in tests)."""
        return self.realms[realm].sign(claims, key=key)

    # --- OIDC ----------------------------------------------------------------------------------------------------

    def _issuer(self, request: Request, realm: str) -> str:
        return f"{str(request.base_url).rstrip('/')}/realms/{realm}"

    async def discovery(self, request: Request) -> Response:
        name = request.path_params["realm"]
        if name not in self.realms:
            return keycloak_error(404, "Realm does not exist")
        issuer = self._issuer(request, name)
        return JSONResponse({
            "issuer": issuer, "token_endpoint": f"{issuer}/protocol/openid-connect/token",
            "jwks_uri": f"{issuer}/protocol/openid-connect/certs",
            "authorization_endpoint": f"{issuer}/protocol/openid-connect/auth",
            "end_session_endpoint": f"{issuer}/protocol/openid-connect/logout",
            "grant_types_supported": ["password", "client_credentials", "refresh_token", "authorization_code"],
            "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
        })

    async def certs(self, request: Request) -> Response:
        realm = self.realms.get(request.path_params["realm"])
        if realm is None:
            return keycloak_error(404, "Realm does not exist")
        self.certs_served += 1
        return JSONResponse({"keys": [key.jwk() for key in realm.keys]})

    async def token(self, request: Request) -> Response:
        realm = self.realms.get(request.path_params["realm"])
        if realm is None:
            return keycloak_error(404, "Realm does not exist")
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        client = realm.client_by_client_id(form.get("client_id", ""))
        if client is None or not client.get("enabled", True):
            return _oauth_error(401, "invalid_client", "Invalid client or Invalid client credentials")
        if not client["publicClient"] and form.get("client_secret") != realm.secrets.get(client["id"]):
            return _oauth_error(401, "unauthorized_client", "Invalid client or Invalid client credentials")
        grant = form.get("grant_type")
        if grant == "password":
            if not client.get("directAccessGrantsEnabled"):
                return _oauth_error(400, "unauthorized_client", "Client not allowed for direct access grants")
            user = realm.user_by_name(form.get("username", ""))
            return self._password_grant(request, realm, client, user, form.get("password", ""))
        if grant == "client_credentials":
            if client["publicClient"] or not client.get("serviceAccountsEnabled"):
                return _oauth_error(400, "unauthorized_client", "Client not enabled to retrieve service account")
            user = realm.user_by_name(f"service-account-{client['clientId']}")
            return self._issue(request, realm, client, user)
        if grant == "authorization_code":
            return self._code_grant(request, realm, client, form)
        if grant == "refresh_token":
            try:
                claims = jwt.decode(form.get("refresh_token", ""), realm.active_key.private.public_key(),
                                    algorithms=["RS256"], options={"verify_aud": False})
            except jwt.PyJWTError:
                return _oauth_error(400, "invalid_grant", "Invalid refresh token")
            user = realm.users.get(claims["sub"])
            if user is None or not user.rep.get("enabled"):
                return _oauth_error(400, "invalid_grant", "Session not active")
            return self._issue(request, realm, client, user)
        return _oauth_error(400, "unsupported_grant_type", "Unsupported grant_type")

    def _password_grant(self, request: Request, realm: Realm, client: dict, user: User | None,
                        password: str) -> Response:
        settings = realm.settings
        if user is None:
            return _oauth_error(401, "invalid_grant", "Invalid user credentials")
        locked = settings.get("bruteForceProtected") and user.failures >= settings.get("failureFactor", 30)
        if locked:
            return _oauth_error(400, "invalid_grant", "Account temporarily disabled")
        if user.password is None or not secrets.compare_digest(user.password, password):
            user.failures += 1
            return _oauth_error(401, "invalid_grant", "Invalid user credentials")
        user.failures = 0
        if not user.rep.get("enabled"):
            return _oauth_error(400, "invalid_grant", "Account disabled")
        if user.rep.get("requiredActions"):
            return _oauth_error(400, "invalid_grant", "Account is not fully set up")
        return self._issue(request, realm, client, user)

    # --- authorization code flow (the login page, then the code for tokens) -------------------------------------

    @staticmethod
    def _redirect_allowed(client: dict, redirect_uri: str) -> bool:
        """Keycloak's matching: a pattern ending in * is a prefix; one starting with / is relative to the client's
        root URL (here: only its path is compared)."""
        for pattern in client.get("redirectUris", []):
            compared = urlsplit(redirect_uri).path if pattern.startswith("/") else redirect_uri
            if pattern.endswith("*") and compared.startswith(pattern[:-1]) or compared == pattern:
                return True
        return False

    def _authorization_problem(self, realm: Realm, params: dict) -> tuple[dict | None, str | None]:
        client = realm.client_by_client_id(params.get("client_id", ""))
        if client is None or not client.get("enabled", True) or not client.get("standardFlowEnabled"):
            return None, "Client not found or not allowed the standard flow"
        if params.get("response_type") != "code":
            return client, "Unsupported response_type"
        if not self._redirect_allowed(client, params.get("redirect_uri", "")):
            return client, "Invalid parameter: redirect_uri"
        required = client.get("attributes", {}).get("pkce.code.challenge.method")
        if required and (params.get("code_challenge_method") != required or not params.get("code_challenge")):
            return client, "Missing parameter: code_challenge_method"
        return client, None

    async def authorize(self, request: Request) -> Response:
        """GET: the realm's login page for a client's authorization request; POST: the credentials, then back to
        the client's redirect URI with a code (or an error)."""
        realm = self.realms.get(request.path_params["realm"])
        if realm is None:
            return keycloak_error(404, "Realm does not exist")
        if request.method == "GET":
            params = dict(request.query_params)
        else:
            params = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        client, problem = self._authorization_problem(realm, params)
        if problem:
            return HTMLResponse(f"<p>{html.escape(problem)}</p>", status_code=400)
        if request.method == "GET":
            hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                             for k, v in params.items() if k not in ("username", "password"))
            return HTMLResponse(f'<form method="post"><label for="username">Username</label>'
                                f'<input id="username" name="username"><label for="password">Password</label>'
                                f'<input id="password" name="password" type="password">{hidden}'
                                f'<button type="submit">Sign In</button></form>')
        user = realm.user_by_name(params.get("username", ""))
        refused = self._password_grant(request, realm, client, user, params.get("password", ""))
        if refused.status_code != 200:
            return HTMLResponse("<p>Invalid username or password.</p>", status_code=200)
        code = secrets.token_urlsafe(24)
        self.codes[code] = _Code(client["clientId"], params["redirect_uri"], user.rep["id"], params.get("nonce"),
                                 params.get("code_challenge"), time.time() + 60)
        query = urlencode({"code": code, "state": params.get("state", "")})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=302)

    def _code_grant(self, request: Request, realm: Realm, client: dict, form: dict) -> Response:
        code = self.codes.pop(form.get("code", ""), None)  # single use, whatever happens next
        if code is None or code.expires < time.time() or code.client_id != client["clientId"]:
            return _oauth_error(400, "invalid_grant", "Code not valid")
        if form.get("redirect_uri") != code.redirect_uri:
            return _oauth_error(400, "invalid_grant", "Incorrect redirect_uri")
        if code.challenge is not None:
            verifier = form.get("code_verifier", "")
            computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if not verifier or not secrets.compare_digest(computed, code.challenge):
                return _oauth_error(400, "invalid_grant", "PKCE verification failed: Code mismatch")
        user = realm.users.get(code.user_id)
        return self._issue(request, realm, client, user, id_token_nonce=code.nonce or "")

    async def logout(self, request: Request) -> Response:
        target = request.query_params.get("post_logout_redirect_uri")
        self.logged_out += 1
        return RedirectResponse(target, status_code=302) if target else HTMLResponse("<p>You are logged out</p>")

    def _issue(self, request: Request, realm: Realm, client: dict, user: User, *,
               id_token_nonce: str | None = None) -> Response:
        now = int(time.time())
        lifespan = realm.settings.get("accessTokenLifespan") or 300
        issuer = self._issuer(request, realm.name)
        claims = {"iss": issuer, "sub": user.rep["id"], "iat": now, "exp": now + lifespan, "jti": str(uuid.uuid4()),
                  "typ": "Bearer", "azp": client["clientId"], "preferred_username": user.rep["username"],
                  "realm_access": {"roles": sorted(user.roles)}, "scope": "openid profile email"}
        audiences = []
        for mapper in realm.mappers.get(client["id"], {}).values():
            config = mapper.get("config", {})
            if config.get("access.token.claim") != "true":
                continue
            if mapper.get("protocolMapper") == "oidc-audience-mapper":
                audiences.append(config.get("included.client.audience"))
            elif mapper.get("protocolMapper") == "oidc-usermodel-attribute-mapper":
                values = user.rep.get("attributes", {}).get(config.get("user.attribute"))
                if values:
                    claims[config.get("claim.name")] = values if config.get("multivalued") == "true" else values[0]
        if audiences:
            claims["aud"] = audiences[0] if len(audiences) == 1 else audiences
        refresh = realm.sign({"iss": issuer, "sub": user.rep["id"], "typ": "Refresh", "iat": now,
                              "exp": now + int(realm.settings.get("ssoSessionIdleTimeout") or 1800)})
        answer = {}
        if id_token_nonce is not None:  # the code flow with scope openid: an ID token for the client itself
            answer["id_token"] = realm.sign({"iss": issuer, "sub": user.rep["id"], "aud": client["clientId"],
                                             "azp": client["clientId"], "iat": now, "exp": now + lifespan,
                                             "nonce": id_token_nonce, "typ": "ID",
                                             "preferred_username": user.rep["username"]})
        return JSONResponse({**answer, "access_token": realm.sign(claims), "expires_in": lifespan,
                             "token_type": "Bearer", "refresh_token": refresh,
                             "refresh_expires_in": realm.settings.get("ssoSessionIdleTimeout"),
                             "scope": claims["scope"]})
