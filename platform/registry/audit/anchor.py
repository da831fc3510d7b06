"""The audit chain's anchor outside the database: the key that seals each entry, and the checkpoint file.

Whoever can write the tenant's database can recompute SM3 hashes, but not an entry's HMAC-SM3 seal: the key lives
only in the keys directory. Nor can they move the checkpoint of the chain's head, kept in a file outside the
database: cutting entries off the end and winding the head back is seen too. The checkpoint file is also signed
with the tenant's published SM2 key (GB/T 32918), so an auditor can check it with the public key alone.
"""
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from registry.security import crypto
from registry.security.keys import CertificateKey, KeyMaterialError, load_audit_key, load_certificate_key

log = logging.getLogger(__name__)

# a committed head reaches the checkpoint file within this; a verification and the shutdown write it at once
CHECKPOINT_EVERY_SECONDS = 1.0


class AnchorError(Exception):
    """The audit key or the checkpoint file cannot vouch for the chain."""


@dataclass(frozen=True)
class Mark:
    """A place in the chain: entry `seq` has hash `hash` (seq 0: the empty chain)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Checkpoints:
    """What the file outside the database says about the chain."""

    # entries up to here were written before sealing began (they carry no seal); the sealed ones link to this
    baseline: Mark
    # the furthest the chain was seen committed: the chain must still reach it, with this hash
    head: Mark


class AuditAnchor:
    """One tenant's audit key and checkpoint file; the key is read when first needed."""

    def __init__(self, keys_dir: Path, checkpoint_file: Path):
        self._keys_dir, self.path = keys_dir, checkpoint_file
        self._key: bytes | None = None
        self._guard = threading.Lock()
        self._pending: Mark | None = None
        self._written_at = 0.0
        self._timer: threading.Timer | None = None
        self._baseline_known = False
        self._signing: CertificateKey | None = None

    @property
    def key(self) -> bytes:
        if self._key is None:
            try:
                self._key = load_audit_key(self._keys_dir)
            except KeyMaterialError as exc:
                raise AnchorError(str(exc)) from None
        return self._key

    def seal(self, entry_hash: str, *, after: Mark) -> str:
        """The seal of a new entry that follows `after`; the first one records where sealing began."""
        seal = self._seal_of(entry_hash)  # no key, no write: an unsealed entry would read as forged
        if not self._baseline_known:
            self._baseline_known = True
            try:
                if self._update(lambda current: current or self._start(after)):
                    with self._guard:  # the file was just written: the first commit's head may wait its turn
                        self._written_at = time.monotonic()
            except (OSError, AnchorError):  # the write goes on; verification reports the missing checkpoint
                log.exception("could not start the audit checkpoint file %s", self.path)
        return seal

    def sealed(self, entry_hash: str, mac: str | None) -> bool:
        return mac is not None and crypto.constant_time_equal(self._seal_of(entry_hash), mac)

    def committed(self, mark: Mark) -> None:
        """A head that was just committed: written to the file now, or within CHECKPOINT_EVERY_SECONDS."""
        with self._guard:
            if self._pending is None or mark.seq > self._pending.seq:
                self._pending = mark
            due = time.monotonic() - self._written_at >= CHECKPOINT_EVERY_SECONDS
            if not due and self._timer is None:
                self._timer = threading.Timer(CHECKPOINT_EVERY_SECONDS, self._flush_quietly)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self._flush_quietly()

    def flush(self) -> None:
        """Write the newest committed head to the file now (verification, shutdown)."""
        with self._guard:
            mark, self._pending, self._written_at = self._pending, None, time.monotonic()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if mark is not None:
            self.advance(mark)

    def advance(self, mark: Mark) -> None:
        """Move the head checkpoint forward to `mark` (never back). A lost file is not started again here: the
        verification reports it, and only a new process's first seal starts one (and logs it)."""
        self._update(lambda current: current if current is None or current.head.seq >= mark.seq else Checkpoints(
            baseline=current.baseline, head=mark))

    def start_if_absent(self, mark: Mark) -> None:
        """The first checkpoint of a chain written before sealing began: it covers those entries."""
        self._update(lambda current: current or self._start(mark))

    def checkpoints(self) -> Checkpoints | None:
        """What the file says (after writing this process's newest head); None when there is no file yet."""
        self.flush()
        return self._read(check_signature=True)

    # --- the file ---------------------------------------------------------------------------------------------

    def _start(self, mark: Mark) -> Checkpoints:
        if mark.seq:  # a chain that has entries but no checkpoint file yet: upgraded, or the file was lost
            log.warning("audit checkpoint file %s started at seq %d", self.path, mark.seq)
        return Checkpoints(baseline=mark, head=mark)

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except Exception:  # the write is committed already; verification reports a checkpoint left behind
            log.exception("could not write the audit checkpoint %s", self.path)

    def _seal_of(self, entry_hash: str) -> str:
        return crypto.hmac_sm3(self.key, "audit-entry:" + entry_hash)

    def _mark_seal(self, role: str, mark: Mark) -> str:
        return crypto.hmac_sm3(self.key, f"audit-checkpoint:{role}:{mark.seq}:{mark.hash}")

    def _update(self, change: Callable[[Checkpoints | None], Checkpoints | None]) -> bool:
        """Read, change and replace the file under an exclusive lock (several processes may write it); whether it
        was written."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with os.fdopen(os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600), "rb") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self._read()
            changed = change(current)
            if changed is None or changed == current:
                return False
            self._write(changed)
            return True

    def _read(self, *, check_signature: bool = False) -> Checkpoints | None:
        """The file's checkpoints, their HMAC seals checked; with `check_signature` (a verification) its SM2
        signature too (a write only moves the head: the seals suffice there, and SM2 in Python is slow)."""
        try:
            data = json.loads(self.path.read_text())
            marks = {role: Mark(int(data[role]["seq"]), str(data[role]["hash"])) for role in ("baseline", "head")}
            seals = {role: str(data[role]["mac"]) for role in marks}
            key_id = str(data["key_id"])
            signature = data.get("signature")
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as exc:
            raise AnchorError(f"the audit checkpoint file {self.path} is unreadable ({exc.__class__.__name__})") \
                from None
        if key_id != crypto.key_id(self.key):
            raise AnchorError(f"the audit checkpoints were sealed with audit key id {key_id} but the keys directory "
                              f"holds key id {crypto.key_id(self.key)}: the audit key was replaced")
        for role, mark in marks.items():
            if not crypto.constant_time_equal(self._mark_seal(role, mark), seals[role]):
                raise AnchorError(f"the audit checkpoint file {self.path} was altered: its {role} seal does not match")
        # files written before checkpoints were signed have no signature: their HMAC seals still guard them
        if check_signature and signature is not None and not self._signature_valid(data):
            raise AnchorError(f"the audit checkpoint file {self.path} was altered: its SM2 signature does not verify")
        return Checkpoints(**marks)

    def _signing_key(self) -> CertificateKey | None:
        """The tenant's published SM2 key (the certificates' one): anyone holding its public half can check a
        checkpoint. None where the keys directory has none (a bare anchor in a tool): the HMAC seals still hold."""
        if self._signing is None:
            try:
                self._signing = load_certificate_key(self._keys_dir)
            except KeyMaterialError:
                return None
        return self._signing

    @staticmethod
    def signed_bytes(body: dict) -> bytes:
        """What the SM2 signature covers: the file's fields but the signature, canonical, under a label no QR has."""
        unsigned = {name: value for name, value in body.items() if name not in ("signature", "signing_key_id")}
        return b"fsp-audit-checkpoint:" + json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode()

    def _signature_valid(self, data: dict) -> bool:
        key = self._signing_key()
        return (key is not None and data.get("signing_key_id") == key.key_id
                and crypto.sm2_verify(key.public_hex, self.signed_bytes(data), str(data["signature"])))

    def _write(self, checkpoints: Checkpoints) -> None:
        body = {"key_id": crypto.key_id(self.key)}
        for role in ("baseline", "head"):
            mark = getattr(checkpoints, role)
            body[role] = {"seq": mark.seq, "hash": mark.hash, "mac": self._mark_seal(role, mark)}
        if (key := self._signing_key()) is not None:
            body.update(signature=crypto.sm2_sign(key.private_hex, key.public_hex, self.signed_bytes(body)),
                        signing_key_id=key.key_id)
        temporary = self.path.with_name(self.path.name + ".tmp")
        with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as handle:
            json.dump(body, handle, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())  # a crash must not leave an empty file in its place
        os.replace(temporary, self.path)
