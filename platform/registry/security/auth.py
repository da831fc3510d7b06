"""Bearer-token authentication: one verifier per app, whatever the issuer behind it."""
import time
import uuid
from dataclasses import dataclass, field

import jwt
from jwt.algorithms import RSAAlgorithm

from registry.errors import Unauthorized
from registry.security import crypto
from registry.security.permissions import Permission, permissions_of

ALGORITHM = "RS256"
LEEWAY_SECONDS = 30


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    institution_id: uuid.UUID | None = None
    permissions: frozenset[Permission] = field(default=frozenset())

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


class DevelopmentIssuer:
    """The local target's token issuer: a tenant's own RSA key, no Keycloak. Not for production."""

    def __init__(self, private_pem: bytes, *, issuer: str, audience: str):
        self._private = crypto.load_private_key(private_pem)
        self.issuer, self.audience = issuer, audience
        public_jwk = RSAAlgorithm.to_jwk(self._private.public_key(), as_dict=True)
        self.kid = crypto.sm3_hex(f'{public_jwk["e"]}.{public_jwk["n"]}'.encode())[:16]
        self.jwks = {"keys": [{**public_jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}]}
        self._public = self._private.public_key()

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
        """Check signature, issuer, audience and expiry; anything wrong is a 401."""
        try:
            claims = jwt.decode(
                token, self._public, algorithms=[ALGORITHM], audience=self.audience, issuer=self.issuer,
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
        return principal_from_claims(claims)


def principal_from_claims(claims: dict) -> Principal:
    roles = frozenset(claims.get("realm_access", {}).get("roles", []))
    institution = claims.get("institution_id")
    try:
        institution_id = uuid.UUID(institution) if institution else None
    except (ValueError, TypeError):
        raise Unauthorized("token claim institution_id is not a UUID") from None
    return Principal(subject=str(claims["sub"]), roles=roles, institution_id=institution_id,
                     permissions=permissions_of(roles))
