"""Everything one tenant's app holds: settings, engine, keys, issuer, metrics. Many can live in one process."""
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from registry.config import Settings
from registry.journal import Journal
from registry.limits import AttemptLimiter
from registry.metrics import AppMetrics
from registry.security import crypto
from registry.security.auth import DevelopmentIssuer, TokenVerifier
from registry.security.keys import TenantKeys


@dataclass
class TenantContext:
    settings: Settings
    engine: Engine
    keys: TenantKeys = field(repr=False)
    # checks every bearer token; backed by the tenant's realm JWKS, or by the development issuer's key
    verifier: TokenVerifier
    metrics: AppMetrics
    # the one unit of write: every change to this tenant's registry goes through it
    journal: Journal
    # only for tenants without Keycloak: mints development tokens
    issuer: DevelopmentIssuer | None = None
    migration_heads: set[str] = field(default_factory=set)
    # wrong certificate checks per client (registry.cremations.verification)
    certificate_attempts: AttemptLimiter = field(default_factory=AttemptLimiter)
    # wrong query-code lookups per client (registry.query_codes), whatever the service looked up
    query_attempts: AttemptLimiter = field(default_factory=AttemptLimiter)
    # messages left on memorial pages per client, signed in or not (registry.memorials): every one counts
    memorial_messages: AttemptLimiter = field(default_factory=lambda: AttemptLimiter(max_failures=10, window_seconds=600))
    # online payment (registry.payments.runtime.Payments: the provider and refused notices per client), set when
    # the payments routes are mounted
    payments: Any = None
    # whether the tenant is suspended, read from its database every few seconds (registry.tenant_status)
    status: Any = None

    def encrypt(self, field_name: str, value: str) -> str:
        return self.keys.field_ring.encrypt(value, context=field_name.encode())

    def decrypt(self, field_name: str, token: str) -> str:
        return self.keys.field_ring.decrypt(token, context=field_name.encode())

    def seal(self, context: str, data: bytes) -> bytes:
        """Bytes (a file) SM4-encrypted with the field key; `context` (e.g. the record's id) is authenticated."""
        return self.keys.field_ring.seal(data, context=context.encode())

    def unseal(self, context: str, sealed: bytes) -> bytes:
        return self.keys.field_ring.open(sealed, context=context.encode())

    def blind_index(self, value: str) -> str:
        return crypto.hmac_sm3(self.keys.index_key, value.upper())

    def person_ref(self, id_type: str, number: str | None) -> str | None:
        """What the ministry matches one person by across provinces, never the number: a blind index under the
        provinces' shared key. None without a number, or where provisioning gave no such key (the ministry)."""
        if not number or self.keys.person_match_key is None:
            return None
        return crypto.hmac_sm3(self.keys.person_match_key, f"{id_type}:{number.upper()}")
