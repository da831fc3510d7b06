"""Which algorithm protects what (密评 baseline): one table, read by people (README) and by `fsp baseline check`.

Each row: what is protected, the algorithm and its standard, the key (file in the tenant's keys directory, or where
it lives), how it is rotated, and the code that does it. `accepted` lists algorithms still verified during a switch.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Protection:
    protects: str
    algorithm: str
    standard: str
    key: str
    rotation: str
    where: str
    accepted: tuple[str, ...] = ()


PROTECTIONS: tuple[Protection, ...] = (
    Protection("personal data at rest (ID numbers, phones, names of bookings, complaints, applications, staff "
               "sessions, attachments)", "SM4-GCM", "GB/T 32907", "field-sm4.key, field-sm4.v<N>.key (a key ring)",
               "fsp keys rotate --field; fsp keys reencrypt; fsp keys retire --field N", "registry.security.field_keys"),
    Protection("search of personal data (blind index of ID numbers)", "HMAC-SM3", "GB/T 32905, GB/T 15852.2",
               "index-hmac-sm3.key", "not rotated with the field key (every index would change)",
               "registry.context.TenantContext.blind_index"),
    Protection("person matching across provinces (person_ref)", "HMAC-SM3", "GB/T 32905",
               "person-match-hmac-sm3.key (shared by the provinces, never held by the ministry)", "not rotated",
               "registry.context.TenantContext.person_ref"),
    Protection("audit chain links", "SM3", "GB/T 32905", "none (a hash chain)", "-", "registry.audit.service"),
    Protection("audit chain entries and checkpoints (seals)", "HMAC-SM3", "GB/T 32905", "audit-hmac-sm3.key",
               "not rotated (every sealed entry would fail)", "registry.audit.anchor"),
    Protection("audit chain checkpoints (signature, checkable with the public key alone)", "SM2 with SM3", "GB/T 32918",
               "certificate-sm2.key/.pub (published)", "not rotated", "registry.audit.anchor",
               accepted=("unsigned files from before signing, by their HMAC-SM3 seals",)),
    Protection("exchange batches to the ministry and death notices to departments (signatures)", "SM2 with SM3",
               "GB/T 32918", "exchange-signing.v<N>.key/.pub (exchange-ed25519.pem before the switch)",
               "fsp keys rotate --signing (old and new registered), fsp keys retire --signing",
               "registry.exchange.signing", accepted=("Ed25519",)),
    Protection("certificate and transport permit QR codes (FSPC1, FSPP1)", "SM2 with SM3", "GB/T 32918",
               "certificate-sm2.key/.pub (published at /.well-known/fsp-certificate-key)",
               "not rotated (printed QR codes must keep verifying)", "registry.signed_documents"),
    Protection("backups (database and keys)", "SM4-GCM, SM3 digests", "GB/T 32907, GB/T 32905",
               "the backup key, kept apart from the tenant", "a new backup key seals the next backups",
               "provisioning_cli.backup_archive"),
    Protection("staff and citizen tokens", "RS256", "RFC 7518 (the realm's choice; not a national algorithm)",
               "the Keycloak realm's keys, or dev-issuer-rsa.pem locally",
               "Keycloak key rotation (JWKS, both kids); locally fsp keys rotate --token",
               "registry.security.auth"),
    Protection("traffic between browsers, provinces, the ministry and departments", "TLS (TLCP/国密 TLS where the "
               "gateway supports it)", "GB/T 38636", "the deployment's gateway certificates",
               "the deployment's certificate management", "deployment (ingress), not this code"),
)


def protections() -> list[dict[str, object]]:
    """The table as plain data (JSON, a baseline check)."""
    return [{"protects": p.protects, "algorithm": p.algorithm, "standard": p.standard, "key": p.key,
             "rotation": p.rotation, "where": p.where, "accepted": list(p.accepted)} for p in PROTECTIONS]
