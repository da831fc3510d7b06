"""What a batch looks like on the wire and who may send it: canonical JSON bytes, a signature over them (SM2, or
Ed25519 from before the switch), checked against the keys the ministry registered for the province."""
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from registry.security import crypto

SIGNATURE_HEADER = "X-FSP-Exchange-Signature"
# provisioning writes the tenant's first exchange key pair (Ed25519) under these names in its keys directory
PRIVATE_KEY_FILE = "exchange-ed25519.pem"
PUBLIC_KEY_FILE = "exchange-ed25519.pub.pem"
_VERSIONED = re.compile(r"^exchange-signing\.v([1-9][0-9]{0,5})\.pub$")
_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,30}$")


class SigningKeyError(Exception):
    """The tenant's exchange private key is missing or unusable."""


def canonical(body: dict[str, Any]) -> bytes:
    """One byte string per batch: sorted keys, no spaces, UTF-8; what is signed is exactly what is sent."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def signing_versions(keys_dir: Path) -> dict[int, tuple[Path, Path]]:
    """Each exchange signing key pair in `keys_dir` by version: 0 is the Ed25519 pair provisioning made,
    1, 2, ... the SM2 pairs `fsp keys rotate --signing` added. The newest signs; all present are published."""
    found = {0: (keys_dir / PRIVATE_KEY_FILE, keys_dir / PUBLIC_KEY_FILE)} if (keys_dir / PUBLIC_KEY_FILE).exists() else {}
    for path in keys_dir.glob("exchange-signing.v*.pub") if keys_dir.is_dir() else ():
        if match := _VERSIONED.match(path.name):
            found[int(match.group(1))] = (path.with_suffix(".key"), path)
    return found


def public_key_set(keys_dir: Path) -> bytes:
    """Every present exchange public key, newest first: what the ministry and the departments accept."""
    versions = signing_versions(keys_dir)
    return b"".join(versions[version][1].read_bytes() for version in sorted(versions, reverse=True))


def public_key_set_of(files: Mapping[str, bytes]) -> bytes:
    """The same from a keys directory's files by name (a Kubernetes secret's contents)."""
    versions = {0 if name == PUBLIC_KEY_FILE else int(match.group(1)): data for name, data in files.items()
                if name == PUBLIC_KEY_FILE or (match := _VERSIONED.match(name))}
    return b"".join(versions[version] for version in sorted(versions, reverse=True))


def add_signing_version(keys_dir: Path, *, publish: Callable[[], object] = lambda: None,
                        algorithm: str = crypto.SM2) -> int:
    """Write a new signing pair (SM2 by default, 0600, never over a file) after the newest; its version.

    The public half is written and `publish`ed (registered with the ministry) before the private half: no batch is
    signed with the new key before the ministry accepts it."""
    version = max(signing_versions(keys_dir), default=0) + 1
    private_text, public_text = crypto.new_signer_files(algorithm)
    from registry.security.keys import write_secret

    write_secret(keys_dir / f"exchange-signing.v{version}.pub", public_text.encode())
    publish()
    write_secret(keys_dir / f"exchange-signing.v{version}.key", private_text.encode())
    return version


def retire_older_signing_versions(keys_dir: Path) -> list[int]:
    """Delete every pair but the newest (after the overlap); the versions deleted."""
    versions = signing_versions(keys_dir)
    older = sorted(versions)[:-1]
    for version in older:
        for path in versions[version]:
            path.unlink(missing_ok=True)
    return older


class BatchSigner:
    """Signs batches with the tenant's newest exchange key; notices a rotation (the keys directory changed)."""

    def __init__(self, keys_dir: Path):
        self._keys_dir = keys_dir
        self._stamp, self._signer = self._load()

    def _load(self) -> tuple[int, crypto.Signer]:
        stamp = self._keys_dir.stat().st_mtime_ns if self._keys_dir.is_dir() else 0
        versions = {v: pair for v, pair in signing_versions(self._keys_dir).items() if pair[0].exists()}
        if not versions:
            raise SigningKeyError(f"no exchange private key at {self._keys_dir / PRIVATE_KEY_FILE} "
                                  f"(provision the tenant first)")
        private, public = versions[max(versions)]
        try:
            return stamp, crypto.signer_from_files(private.read_text(), public.read_text())
        except (OSError, ValueError) as exc:
            raise SigningKeyError(f"{private} is not a usable exchange signing key: {exc}") from None

    def __repr__(self) -> str:
        return "BatchSigner(<key hidden>)"

    @property
    def algorithm(self) -> str:
        return self._signer.algorithm

    def sign(self, body: bytes) -> str:
        if self._keys_dir.is_dir() and self._keys_dir.stat().st_mtime_ns != self._stamp:
            self._stamp, self._signer = self._load()
        return self._signer.sign(body)


def peer_keys(peers_dir: Path | None, province: str) -> list[crypto.PublicKey]:
    """The public keys the ministry registered for `province` (during a rotation, old and new), or none."""
    if peers_dir is None or not _SLUG.match(province):  # the slug rule keeps the name inside peers_dir
        return []
    try:
        return crypto.parse_public_keys((peers_dir / f"{province}.pem").read_text())
    except (FileNotFoundError, IsADirectoryError, ValueError):
        return []


def verified(peers_dir: Path | None, province: str, body: bytes, signature: str | None) -> bool:
    """The body was signed by a key registered for `province`, Ed25519 or SM2."""
    return crypto.verify_signature(peer_keys(peers_dir, province), body, signature)
