"""What a batch looks like on the wire and who may send it: canonical JSON bytes, an Ed25519 signature over them."""
import json
import re
from pathlib import Path
from typing import Any

from registry.security import crypto

SIGNATURE_HEADER = "X-FSP-Exchange-Signature"
# provisioning writes the tenant's exchange key pair under these names in its keys directory
PRIVATE_KEY_FILE = "exchange-ed25519.pem"
PUBLIC_KEY_FILE = "exchange-ed25519.pub.pem"
_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,30}$")


class SigningKeyError(Exception):
    """The tenant's exchange private key is missing or unusable."""


def canonical(body: dict[str, Any]) -> bytes:
    """One byte string per batch: sorted keys, no spaces, UTF-8; what is signed is exactly what is sent."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class BatchSigner:
    """Signs batches with the tenant's exchange private key, read once."""

    def __init__(self, keys_dir: Path):
        path = keys_dir / PRIVATE_KEY_FILE
        try:
            self._private_pem = path.read_bytes()
        except FileNotFoundError:
            raise SigningKeyError(f"no exchange private key at {path} (provision the tenant first)") from None
        try:
            crypto.ed25519_sign(self._private_pem, b"")
        except ValueError as exc:
            raise SigningKeyError(f"{path} is not an Ed25519 private key: {exc}") from None

    def __repr__(self) -> str:
        return "BatchSigner(<key hidden>)"

    def sign(self, body: bytes) -> str:
        return crypto.ed25519_sign(self._private_pem, body)


def peer_key(peers_dir: Path | None, province: str) -> bytes | None:
    """The public key the ministry registered for `province`, or None when it trusts no such province."""
    if peers_dir is None or not _SLUG.match(province):  # the slug rule keeps the name inside peers_dir
        return None
    try:
        return (peers_dir / f"{province}.pem").read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None


def verified(peers_dir: Path | None, province: str, body: bytes, signature: str | None) -> bool:
    """The body was signed by the key registered for `province`."""
    public_pem = peer_key(peers_dir, province)
    return public_pem is not None and signature is not None and crypto.ed25519_verify(public_pem, body, signature)
