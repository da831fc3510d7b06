"""A tenant's key material on disk: created once, mode 0600, never logged."""
import os
from dataclasses import dataclass, field
from pathlib import Path

from registry.security import crypto

FIELD_KEY = "field-sm4.key"
INDEX_KEY = "index-hmac-sm3.key"
TOKEN_KEY = "dev-issuer-rsa.pem"
# one key for every province, never held by the ministry: the ministry matches people across provinces by
# the blind index it makes, and cannot turn that index back into numbers by trying them
PERSON_MATCH_KEY = "person-match-hmac-sm3.key"


class KeyMaterialError(Exception):
    """Key material is missing or unreadable."""


@dataclass(frozen=True)
class TenantKeys:
    field_key: bytes = field(repr=False)
    index_key: bytes = field(repr=False)
    token_private_pem: bytes = field(repr=False)
    # provinces only (see PERSON_MATCH_KEY); None where provisioning gave none
    person_match_key: bytes | None = field(default=None, repr=False)


def _write_secret(path: Path, data: bytes) -> None:
    # create with 0600 from the start: no window where the key is world-readable
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def ensure_keys(keys_dir: Path) -> dict[str, str]:
    """Create any missing key file; report each as created or unchanged (idempotent)."""
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    makers = {FIELD_KEY: crypto.new_sm4_key, INDEX_KEY: crypto.new_index_key, TOKEN_KEY: crypto.new_rsa_private_pem}
    outcomes = {}
    for name, make in makers.items():
        path = keys_dir / name
        if path.exists():
            outcomes[name] = "unchanged"
        else:
            _write_secret(path, make())
            outcomes[name] = "created"
    return outcomes


def load_keys(keys_dir: Path) -> TenantKeys:
    """Read the tenant's keys; a missing or malformed file is a clear error, never a silent new key."""
    try:
        field_key = (keys_dir / FIELD_KEY).read_bytes()
        index_key = (keys_dir / INDEX_KEY).read_bytes()
        token_pem = (keys_dir / TOKEN_KEY).read_bytes()
    except FileNotFoundError as exc:
        raise KeyMaterialError(f"key file missing: {exc.filename} (run provisioning for this tenant)") from None
    match_path = keys_dir / PERSON_MATCH_KEY
    person_match_key = match_path.read_bytes() if match_path.exists() else None
    if len(field_key) != crypto.SM4_KEY_BYTES or len(index_key) != crypto.INDEX_KEY_BYTES or (
            person_match_key is not None and len(person_match_key) != crypto.INDEX_KEY_BYTES):
        raise KeyMaterialError(f"key files in {keys_dir} have the wrong length")
    return TenantKeys(field_key=field_key, index_key=index_key, token_private_pem=token_pem,
                      person_match_key=person_match_key)
