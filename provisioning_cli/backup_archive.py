"""The backup file: one file holding a tenant's database, keys and audit checkpoint, sealed under a backup key.

Layout: `FSPBACKUP\\n`, one JSON header line (format, tenant, backup key id, time: readable without the key, so
a wrong key or another tenant's file is named as such), then SM4-GCM over a tar of `manifest.json`, the database
and `keys/`, with the header as associated data. The backup key is never in the file nor beside it: the operator
keeps it apart (a key file or FSP_BACKUP_KEY, 32 hex digits), so a stolen backup discloses nothing.
"""
import json
import os
import tarfile
from pathlib import Path
from typing import Any

from provisioning_cli.targets import TargetError
from registry.security import crypto

MAGIC = b"FSPBACKUP\n"
FORMAT = 1
SUFFIX = "fspbackup"
BACKUP_KEY_ENV = "FSP_BACKUP_KEY"
MANIFEST = "manifest.json"


class BackupFileError(TargetError):
    """A backup that cannot be opened: not a backup, another key, another tenant, or damaged."""


def backup_key(key_file: Path | None, *, backup_dir: Path) -> bytes:
    """The backup key from `key_file` or $FSP_BACKUP_KEY (32 hex digits); there is no default."""
    if key_file is not None:
        if key_file.resolve().is_relative_to(backup_dir.resolve()):
            raise TargetError(f"the backup key file {key_file} lies in the backup directory: keep it apart, "
                              "or whoever takes the backups can read them")
        try:
            text = key_file.read_text().strip()
        except OSError as err:
            raise TargetError(f"cannot read the backup key file {key_file}: {err.strerror}") from None
    else:
        text = os.environ.get(BACKUP_KEY_ENV, "").strip()
        if not text:
            raise TargetError(f"no backup key: pass --backup-key-file FILE or set {BACKUP_KEY_ENV} "
                              "(make one with `openssl rand -hex 16`, and keep it away from the backups)")
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != crypto.SM4_KEY_BYTES:
        raise TargetError(f"the backup key must be {crypto.SM4_KEY_BYTES * 2} hex digits (`openssl rand -hex 16`)")
    return key


def seal(work: Path, manifest: dict[str, Any], *, key: bytes, into: Path) -> None:
    """Write `manifest` and the files it lists (under `work`) as one sealed backup at `into` (created 0600)."""
    (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    payload = work / "payload.tar"
    with tarfile.open(payload, "w") as tar:
        for name in [MANIFEST, *manifest["files"]]:
            tar.add(work / name, arcname=name, recursive=False)
    header = _header_line({"format": FORMAT, "tenant": manifest["tenant"], "code": manifest["code"],
                           "taken_at": manifest["taken_at"], "backup_key_id": crypto.key_id(key)})
    fd = os.open(into, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as target, payload.open("rb") as source:
        target.write(MAGIC + header)
        crypto.sm4_gcm_encrypt_stream(key, source, target, context=MAGIC + header)
        target.flush()
        os.fsync(target.fileno())
    payload.unlink()


def read_header(file: Path) -> dict[str, Any]:
    """What the backup says of itself without the key."""
    with _open(file) as handle:
        return _read_header(handle, file)[0]


def unseal(file: Path, *, key: bytes, tenant: str, work: Path) -> dict[str, Any]:
    """Decrypt `file` into `work` (a private directory) and check it: its tenant and every file's checksum.
    Returns the manifest; raises BackupFileError naming what is wrong."""
    size = file.stat().st_size
    with _open(file) as handle:
        header, line = _read_header(handle, file)
        if header.get("format") != FORMAT:
            raise BackupFileError(f"{file} has backup format {header.get('format')}, this fsp reads {FORMAT}")
        if header.get("tenant") != tenant:
            raise BackupFileError(f"{file} is a backup of {header.get('tenant')}, not of {tenant}")
        if header.get("backup_key_id") != crypto.key_id(key):
            raise BackupFileError(f"wrong backup key: {file} was sealed with the backup key {header.get('backup_key_id')}, "
                                  f"the key given is {crypto.key_id(key)}")
        payload = work / "payload.tar"
        fd = os.open(payload, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as target:
            try:
                crypto.sm4_gcm_decrypt_stream(key, handle, size - len(MAGIC) - len(line), target, context=MAGIC + line)
            except crypto.DecryptionError as err:
                raise BackupFileError(f"{file} is damaged or was altered ({err}): use another backup") from None
    with tarfile.open(payload) as tar:
        tar.extractall(work, filter="data")
    payload.unlink()
    manifest = json.loads((work / MANIFEST).read_text())
    if manifest.get("tenant") != tenant:
        raise BackupFileError(f"{file}'s manifest names the tenant {manifest.get('tenant')}, not {tenant}")
    for name, expected in manifest["files"].items():
        path = work / name
        if not path.is_file() or crypto.sm3_file(path) != expected["sm3"]:
            raise BackupFileError(f"{file}: {name} does not match its checksum in the manifest")
    return manifest


def file_entry(path: Path) -> dict[str, Any]:
    """A file's line in the manifest: its SM3 checksum and size."""
    return {"sm3": crypto.sm3_file(path), "bytes": path.stat().st_size}


def _header_line(header: dict[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def _open(file: Path):
    try:
        return file.open("rb")
    except FileNotFoundError:
        raise BackupFileError(f"no backup file {file}") from None


def _read_header(handle, file: Path) -> tuple[dict[str, Any], bytes]:
    if handle.read(len(MAGIC)) != MAGIC:
        raise BackupFileError(f"{file} is not an fsp backup")
    line = handle.readline(4096)
    try:
        header = json.loads(line)
        if not isinstance(header, dict):
            raise ValueError
    except ValueError:
        raise BackupFileError(f"{file} is damaged: its header is unreadable") from None
    return header, line
