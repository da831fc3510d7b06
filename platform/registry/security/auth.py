"""Bearer-token authentication: one verifier per app, whatever the issuer behind it.

A `TokenVerifier` checks signature, issuer, audience and expiry against a key source: the JWKS of the tenant's
Keycloak realm fetched over HTTP (`RemoteJWKS`), or the development issuer's own key (`StaticKeys`). Both go
through the same `TokenVerifier.verify`.
"""
import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field

import httpx
import jwt
from jwt.algorithms import RSAAlgorithm

from registry.errors import Forbidden, Unauthorized
from registry.security import crypto
from registry.security.permissions import Permission, permissions_of, separation_conflict

ALGORITHM = "RS256"
LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    institution_id: uuid.UUID | None = None
    permissions: frozenset[Permission] = field(default=frozenset())
    username: str | None = None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


class StaticKeys:
    """Keys known up front (the development issuer's own): nothing to fetch."""

    def __init__(self, jwks: dict):
        self._keys = _parse_jwks(jwks)

    def cached(self, kid: str | None) -> object | None:
        return _pick(self._keys, kid)

    def fetch(self, kid: str | None) -> object | None:
        return self.cached(kid)


class RemoteJWKS:
    """A realm's JWKS fetched over HTTP and cached; an unknown `kid` refetches it, at most once per interval."""

    def __init__(self, url: str, *, min_refetch_seconds: float = 30.0, timeout_seconds: float = 5.0):
        self.url = url
        self._min_refetch = min_refetch_seconds
        self._timeout = timeout_seconds
        self._keys: dict[str | None, object] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def cached(self, kid: str | None) -> object | None:
        return _pick(self._keys, kid)

    def fetch(self, kid: str | None) -> object | None:
        """The key for `kid`, refetching the JWKS when it is unknown (rotation) unless fetched very recently."""
        with self._lock:
            key = self.cached(kid)
            recent = self._fetched_at is not None and time.monotonic() - self._fetched_at < self._min_refetch
            if key is not None or recent:
                return key  # rate-limited: a flood of made-up kids must not become a flood of fetches
            self._fetched_at = time.monotonic()
            try:
                response = httpx.get(self.url, timeout=self._timeout)
                response.raise_for_status()
                self._keys = _parse_jwks(response.json())
            except (httpx.HTTPError, ValueError) as exc:
                raise Unauthorized(f"cannot fetch the issuer's signing keys: {type(exc).__name__}") from None
            return self.cached(kid)


KeySource = StaticKeys | RemoteJWKS


class TokenVerifier:
    """Checks bearer tokens of one issuer and audience; anything wrong is a 401.

    A token that passed is remembered until it expires (by digest, never the token itself), so a client that
    sends the same token with every request pays for the RSA check once; it is dropped as soon as its signing
    key is no longer published.
    """

    CACHE_SIZE = 4096

    def __init__(self, keys: KeySource, *, issuer: str, audience: str):
        self.keys, self.issuer, self.audience = keys, issuer, audience
        self._verified: OrderedDict[bytes, tuple[Principal, str | None, float]] = OrderedDict()
        self._verified_lock = threading.Lock()

    def needs_fetch(self, token: str) -> bool:
        """True when the token's signing key is not cached yet (the caller may fetch off the event loop)."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            return False
        return self.keys.cached(kid) is None

    def remembered(self, token: str) -> Principal | None:
        """Who the token speaks for, if it passed before, has not expired and its key is still published."""
        digest = _digest(token)
        with self._verified_lock:
            remembered = self._verified.get(digest)
        if remembered is None:
            return None
        principal, kid, expires = remembered
        if time.time() <= expires + LEEWAY_SECONDS and self.keys.cached(kid) is not None:
            return principal
        with self._verified_lock:
            self._verified.pop(digest, None)
        return None

    def verify(self, token: str) -> Principal:
        """Check signature, issuer, audience and expiry; return who the token speaks for."""
        principal = self.remembered(token)
        if principal is not None:
            return principal
        principal, kid, expires = self._verify(token)
        with self._verified_lock:
            self._verified[_digest(token)] = (principal, kid, expires)
            if len(self._verified) > self.CACHE_SIZE:
                self._verified.popitem(last=False)
        return principal

    def _verify(self, token: str) -> tuple[Principal, str | None, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthorized(f"invalid token: algorithm must be {ALGORITHM}")
        key = self.keys.fetch(header.get("kid"))
        if key is None:
            raise Unauthorized("invalid token: signed with a key this tenant's issuer does not publish")
        try:
            claims = jwt.decode(
                token, key, algorithms=[ALGORITHM], audience=self.audience, issuer=self.issuer,
                leeway=LEEWAY_SECONDS, options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired") from None
        except jwt.InvalidIssuerError:
            raise Unauthorized("token issued for another tenant or issuer") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized("token not issued for this API") from None
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"invalid token: {exc}") from None
        if claims.get("typ", "Bearer") != "Bearer":
            raise Unauthorized("not an access token")  # Keycloak's ID and refresh tokens are signed alike
        return principal_from_claims(claims), header.get("kid"), float(claims["exp"])


class DevelopmentIssuer:
    """The local target's token issuer: a tenant's own RSA key, no Keycloak. Not for production."""

    def __init__(self, private_pem: bytes, *, issuer: str, audience: str, previous_pems: tuple[bytes, ...] = ()):
        """`previous_pems`: keys rotated out but not yet retired; their tokens still verify (both kids published)."""
        self._private = crypto.load_private_key(private_pem)
        self.issuer, self.audience = issuer, audience
        jwks = [_public_jwk(key) for key in (self._private, *map(crypto.load_private_key, previous_pems))]
        self.kid = jwks[0]["kid"]
        self.jwks = {"keys": jwks}
        # its tokens are checked by the same verifier as a Keycloak realm's, over its published JWKS
        self.verifier = TokenVerifier(StaticKeys(self.jwks), issuer=issuer, audience=audience)

    def mint(self, subject: str, roles: list[str], *, institution_id: uuid.UUID | None = None,
             ttl_seconds: int = 3600) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": self.audience, "sub": subject, "iat": now, "exp": now + ttl_seconds,
            "realm_access": {"roles": sorted(roles)}, "preferred_username": subject,
        }
        if institution_id is not None:
            claims["institution_id"] = str(institution_id)
        return jwt.encode(claims, self._private, algorithm=ALGORITHM, headers={"kid": self.kid})

    def verify(self, token: str) -> Principal:
        return self.verifier.verify(token)


def _public_jwk(private) -> dict:
    public_jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    kid = crypto.sm3_hex(f'{public_jwk["e"]}.{public_jwk["n"]}'.encode())[:16]
    return {**public_jwk, "kid": kid, "use": "sig", "alg": ALGORITHM}


def _digest(token: str) -> bytes:
    return hashlib.blake2b(token.encode(), digest_size=20).digest()


def principal_from_claims(claims: dict) -> Principal:
    roles = frozenset(claims.get("realm_access", {}).get("roles", []))
    institution = claims.get("institution_id")
    try:
        institution_id = uuid.UUID(institution) if institution else None
    except (ValueError, TypeError, AttributeError):
        raise Unauthorized("token claim institution_id is not a UUID") from None
    return Principal(subject=str(claims["sub"]), roles=roles, institution_id=institution_id,
                     permissions=permissions_of(roles), username=claims.get("preferred_username"))


def check_separation(principal: Principal) -> None:
    """三员分立: a token holding two roles that must stay apart (two of the three administrators, or the auditor
    with the system or security administrator) is refused, whatever the realm says."""
    held = separation_conflict(principal.roles)
    if held:
        raise Forbidden("authorization", "separation_of_duties",
                        f"roles {', '.join(held)} must never be held by one person")


def _parse_jwks(jwks: dict) -> dict[str | None, object]:
    keys: dict[str | None, object] = {}
    for jwk in jwks.get("keys", []):
        if jwk.get("kty") != "RSA" or jwk.get("use", "sig") != "sig":
            continue  # Keycloak also publishes encryption keys; only signing keys verify tokens
        keys[jwk.get("kid")] = RSAAlgorithm.from_jwk(jwk)
    return keys


def _pick(keys: dict[str | None, object], kid: str | None) -> object | None:
    if kid is None and len(keys) == 1:
        return next(iter(keys.values()))  # a token without kid is fine when the issuer has one key
    return keys.get(kid)
