"""The field key ring: every version of the key that encrypts personal data at rest (SM4-GCM), kept until retired.

Version 1 is `field-sm4.key` (the key before rotation existed); `fsp keys rotate --field` adds
`field-sm4.v<N>.key`. New writes use the newest version; every ciphertext names its version, so reads pick the
right key throughout a rotation. A running registry notices a new version by itself (the keys directory changed),
so rotation needs no restart. The blind-index key is separate and is not rotated with the field key: indexes
stay valid (see README, Keys and algorithms).
"""
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from registry.security import crypto

LEGACY_FIELD_KEY = "field-sm4.key"
_VERSIONED_FILE = re.compile(r"^field-sm4\.v([1-9][0-9]{0,5})\.key$")
# how often a running registry looks for a new version in the keys directory (a stat, nothing read)
REFRESH_SECONDS = 5.0


def file_name(version: int) -> str:
    return LEGACY_FIELD_KEY if version == 1 else f"field-sm4.v{version}.key"


def versions_on_disk(keys_dir: Path) -> dict[int, Path]:
    """Each field key version present in `keys_dir` and its file."""
    found = {1: keys_dir / LEGACY_FIELD_KEY} if (keys_dir / LEGACY_FIELD_KEY).is_file() else {}
    if keys_dir.is_dir():
        for path in keys_dir.iterdir():
            if match := _VERSIONED_FILE.match(path.name):
                found[int(match.group(1))] = path
    return found


def _read_versions(keys_dir: Path) -> dict[int, bytes]:
    from registry.security.keys import KeyMaterialError  # keys imports this module

    keys = {version: path.read_bytes() for version, path in versions_on_disk(keys_dir).items()}
    if not keys:
        raise KeyMaterialError(f"key file missing: {keys_dir / LEGACY_FIELD_KEY} (run provisioning for this tenant)")
    if any(len(key) != crypto.SM4_KEY_BYTES for key in keys.values()):
        raise KeyMaterialError(f"field key files in {keys_dir} have the wrong length")
    return keys


@dataclass
class FieldKeyRing:
    """All versions of a tenant's field key; encrypts with the newest, decrypts with the one a ciphertext names."""
    keys_dir: Path
    _keys: dict[int, bytes] = field(repr=False)
    _seen: tuple[int, float] = (0, 0.0)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, keys_dir: Path) -> "FieldKeyRing":
        return cls(keys_dir, _read_versions(keys_dir), (_stamp(keys_dir), time.monotonic()))

    @property
    def versions(self) -> list[int]:
        self._refresh()
        return sorted(self._keys)

    @property
    def current_version(self) -> int:
        self._refresh()
        return max(self._keys)

    @property
    def current_key(self) -> bytes:
        return self._keys[self.current_version]

    def key(self, version: int) -> bytes:
        if version not in self._keys:
            self._refresh(force=True)  # written by a newer version than this process has read yet
        try:
            return self._keys[version]
        except KeyError:
            raise crypto.DecryptionError(f"field key version {version} is not in the key ring") from None

    def encrypt(self, value: str, *, context: bytes) -> str:
        version = self.current_version
        return crypto.sm4_gcm_encrypt(self._keys[version], value, context=context, version=version)

    def decrypt(self, token: str, *, context: bytes) -> str:
        return crypto.sm4_gcm_decrypt(self.key(crypto.ciphertext_version(token)), token, context=context)

    def seal(self, data: bytes, *, context: bytes) -> bytes:
        version = self.current_version
        return crypto.sm4_gcm_seal_versioned(self._keys[version], data, context=context, version=version)

    def open(self, sealed: bytes, *, context: bytes) -> bytes:
        version = crypto.sealed_version(sealed)
        if version is not None and version not in self._keys:
            self._refresh(force=True)
        if version is not None and version in self._keys:
            try:
                return crypto.sm4_gcm_open(self._keys[version], sealed[len(crypto.SEAL_HEADER) + 2:], context=context)
            except crypto.DecryptionError:
                pass  # a version 1 blob whose nonce happens to begin like a header
        return crypto.sm4_gcm_open(self.key(1), sealed, context=context)

    def sealed_version(self, sealed: bytes, *, context: bytes) -> int:
        """Which version a sealed blob is under (it is opened to tell a header from a version 1 nonce)."""
        version = crypto.sealed_version(sealed)
        if version is not None and version in self._keys:
            try:
                crypto.sm4_gcm_open(self._keys[version], sealed[len(crypto.SEAL_HEADER) + 2:], context=context)
                return version
            except crypto.DecryptionError:
                pass
        return 1

    def _refresh(self, *, force: bool = False) -> None:
        """Reread the ring when the keys directory changed (at most every REFRESH_SECONDS unless forced)."""
        stamp, checked = self._seen
        now = time.monotonic()
        if not force and now - checked < REFRESH_SECONDS:
            return
        with self._lock:
            current = _stamp(self.keys_dir)
            if current != stamp or force:  # forced: a file made within the clock tick of the last look
                self._keys = _read_versions(self.keys_dir)
            self._seen = (current, now)


def _stamp(keys_dir: Path) -> int:
    try:
        return os.stat(keys_dir).st_mtime_ns
    except FileNotFoundError:
        return 0


def add_version(keys_dir: Path) -> int:
    """Write a new field key version (0600, never over an existing file) and return its number."""
    versions = versions_on_disk(keys_dir)
    version = max(versions, default=0) + 1
    from registry.security.keys import write_secret

    write_secret(keys_dir / file_name(version), crypto.new_sm4_key())
    return version
