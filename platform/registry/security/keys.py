"""A tenant's key material on disk: created once, mode 0600, never logged."""
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from registry.security import crypto
from registry.security.field_keys import FieldKeyRing, versions_on_disk

FIELD_KEY = "field-sm4.key"
INDEX_KEY = "index-hmac-sm3.key"
TOKEN_KEY = "dev-issuer-rsa.pem"
# the token key rotated out (`fsp keys rotate --token`): its tokens verify until `fsp keys retire --token`
PREVIOUS_TOKEN_KEY = "dev-issuer-rsa.previous.pem"
# one key for every province, never held by the ministry: the ministry matches people across provinces by
# the blind index it makes, and cannot turn that index back into numbers by trying them
PERSON_MATCH_KEY = "person-match-hmac-sm3.key"
# seals the audit chain (HMAC-SM3 per entry and per checkpoint); never stored in the database
AUDIT_KEY = "audit-hmac-sm3.key"
# the audit key's public id, written with it: a missing key whose id remains was lost, not never made
AUDIT_KEY_ID = "audit-hmac-sm3.key.id"
# signs the QR codes printed on cremation certificates (SM2); the public half stays beside it and is published:
# a missing private key whose public half remains was lost, not never made
CERTIFICATE_KEY = "certificate-sm2.key"
CERTIFICATE_PUBLIC_KEY = "certificate-sm2.pub"


class KeyMaterialError(Exception):
    """Key material is missing or unreadable."""


@dataclass(frozen=True)
class TenantKeys:
    # every version of the field key (field_keys.py); new writes use the newest
    field_ring: FieldKeyRing = field(repr=False)
    index_key: bytes = field(repr=False)
    token_private_pem: bytes = field(repr=False)
    audit_key: bytes = field(repr=False)
    certificate_key: "CertificateKey" = field(repr=False)
    # provinces only (see PERSON_MATCH_KEY); None where provisioning gave none
    person_match_key: bytes | None = field(default=None, repr=False)
    # token keys rotated out but still accepted (PREVIOUS_TOKEN_KEY)
    previous_token_pems: tuple[bytes, ...] = field(default=(), repr=False)

    @property
    def field_key(self) -> bytes:
        """The newest field key version (what new writes use)."""
        return self.field_ring.current_key


@dataclass(frozen=True)
class CertificateKey:
    """The tenant's SM2 key pair for certificates; `key_id` names the public key on every QR it signs."""
    private_hex: str = field(repr=False)
    public_hex: str

    @property
    def key_id(self) -> str:
        return crypto.key_id(bytes.fromhex(self.public_hex))


def write_secret(path: Path, data: bytes) -> None:
    # create with 0600 from the start: no window where the key is world-readable
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def ensure_keys(keys_dir: Path, *, certificates_issued: Callable[[], bool] = lambda: False) -> dict[str, str]:
    """Create any missing key file; report each as created or unchanged (idempotent).

    `certificates_issued` tells whether the tenant's database already holds certificates: then a missing
    certificate key is an error, since a new one would fail every QR code already printed."""
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    makers = {FIELD_KEY: crypto.new_sm4_key, INDEX_KEY: crypto.new_index_key, TOKEN_KEY: crypto.new_rsa_private_pem}
    outcomes = {AUDIT_KEY: _ensure_audit_key(keys_dir),
                CERTIFICATE_KEY: _ensure_certificate_key(keys_dir, certificates_issued)}
    for name, make in makers.items():
        path = keys_dir / name
        if path.exists() or (name == FIELD_KEY and versions_on_disk(keys_dir)):  # version 1 may be retired
            outcomes[name] = "unchanged"
        else:
            write_secret(path, make())
            outcomes[name] = "created"
    return outcomes


def _ensure_audit_key(keys_dir: Path) -> str:
    """The audit key is never made anew once it sealed entries: they would no longer verify."""
    key, key_id = keys_dir / AUDIT_KEY, keys_dir / AUDIT_KEY_ID
    if key.exists():
        if key_id.exists():
            return "unchanged"
        write_secret(key_id, crypto.key_id(key.read_bytes()).encode())
        return "updated"
    if key_id.exists():
        raise KeyMaterialError(f"the audit key {key} is missing but sealed this tenant's audit chain "
                               f"(id {key_id.read_text().strip()}): restore it from the key backup; a new key "
                               f"would make every sealed entry fail verification")
    new_key = crypto.new_audit_key()
    write_secret(key, new_key)
    write_secret(key_id, crypto.key_id(new_key).encode())
    return "created"


def _ensure_certificate_key(keys_dir: Path, certificates_issued: Callable[[], bool]) -> str:
    """The certificate key is never made anew once it signed: printed QR codes would no longer verify."""
    private, public = keys_dir / CERTIFICATE_KEY, keys_dir / CERTIFICATE_PUBLIC_KEY
    if private.exists() and public.exists():
        return "unchanged"
    if public.exists() or private.exists() or certificates_issued():
        raise KeyMaterialError(f"the certificate signing key {private} (or its public half) is missing but this "
                               f"tenant has issued certificates: restore both files from the key backup; a new key "
                               f"would make the QR code of every printed certificate fail verification")
    private_hex, public_hex = crypto.new_sm2_key()
    write_secret(private, private_hex.encode())
    write_secret(public, public_hex.encode())
    return "created"


def load_certificate_key(keys_dir: Path) -> CertificateKey:
    """The SM2 pair that signs certificates' QR codes; missing or mismatched halves are an error."""
    key = CertificateKey(_read(keys_dir, CERTIFICATE_KEY).decode().strip(),
                         _read(keys_dir, CERTIFICATE_PUBLIC_KEY).decode().strip())
    if not _sm2_pair(key.private_hex, key.public_hex):
        raise KeyMaterialError(f"{keys_dir / CERTIFICATE_KEY} and {CERTIFICATE_PUBLIC_KEY} are not one SM2 key pair")
    return key


@functools.lru_cache(maxsize=256)
def _sm2_pair(private_hex: str, public_hex: str) -> bool:
    """Whether the two halves are one SM2 key pair (a signature checked once per pair and process: SM2 here is
    pure Python, tens of milliseconds, and `fsp serve` loads every tenant's keys)."""
    try:
        return crypto.sm2_public_key_valid(public_hex) and crypto.sm2_verify(
            public_hex, b"fsp", crypto.sm2_sign(private_hex, public_hex, b"fsp"))
    except ValueError:  # not hex
        return False


def load_keys(keys_dir: Path) -> TenantKeys:
    """Read the tenant's keys; a missing or malformed file is a clear error, never a silent new key."""
    token_pem = _read(keys_dir, TOKEN_KEY)
    field_ring, index_key = FieldKeyRing.load(keys_dir), _read(keys_dir, INDEX_KEY)
    match_path = keys_dir / PERSON_MATCH_KEY
    person_match_key = match_path.read_bytes() if match_path.exists() else None
    if len(index_key) != crypto.INDEX_KEY_BYTES or (
            person_match_key is not None and len(person_match_key) != crypto.INDEX_KEY_BYTES):
        raise KeyMaterialError(f"key files in {keys_dir} have the wrong length")
    return TenantKeys(field_ring=field_ring, index_key=index_key, token_private_pem=token_pem,
                      audit_key=load_audit_key(keys_dir), certificate_key=load_certificate_key(keys_dir),
                      person_match_key=person_match_key, previous_token_pems=tuple(
                          path.read_bytes() for path in (keys_dir / PREVIOUS_TOKEN_KEY,) if path.exists()))


def load_audit_key(keys_dir: Path) -> bytes:
    """The key that seals the audit chain; missing or malformed is an error (a new one would not verify)."""
    key = _read(keys_dir, AUDIT_KEY)
    if len(key) != crypto.AUDIT_KEY_BYTES:
        raise KeyMaterialError(f"{keys_dir / AUDIT_KEY} has the wrong length")
    expected = _read(keys_dir, AUDIT_KEY_ID).decode().strip()
    if crypto.key_id(key) != expected:
        raise KeyMaterialError(f"{keys_dir / AUDIT_KEY} is not the audit key with id {expected} that sealed this "
                               f"tenant's audit chain: it was replaced; restore the original")
    return key


def _read(keys_dir: Path, name: str) -> bytes:
    try:
        return (keys_dir / name).read_bytes()
    except FileNotFoundError as exc:
        raise KeyMaterialError(f"key file missing: {exc.filename} (run provisioning for this tenant)") from None
