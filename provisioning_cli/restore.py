"""Restoring a backup into a fresh database and proving it whole; `fsp restore` and `fsp backup drill` share it.

Proof, beyond the checksums `unseal` checks: every table has the rows the manifest counted, the audit chain
verifies from genesis to the recorded head with the backed-up audit key and checkpoint, a sample of personal data
decrypts with the backed-up field key (and its blind index matches under the index key), and the key ids the
restored database records are those of the backed-up keys.
"""
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlmodel import Session

from infra.ensure.database import create_restore_database, drop_restore_database
from provisioning_cli.backup_archive import unseal
from provisioning_cli.backup_facts import database_facts
from provisioning_cli.backup_take import CHECKPOINT, run_pg
from provisioning_cli.targets import TargetError
from registry.audit import service as audit
from registry.audit.anchor import AuditAnchor
from registry.security import crypto
from registry.security.field_keys import FieldKeyRing
from registry.security.key_ledger import BLIND_INDEX_COLUMNS, ENCRYPTED_COLUMNS, key_problems
from registry.security.keys import INDEX_KEY
from registry.sequences import GENESIS_HASH

SAMPLE = 20  # personal-data values decrypted per column
Progress = Callable[[str], None]


class RestoreError(TargetError):
    """The restored database failed a check; it was dropped again."""

    def __init__(self, message: str, checks: list[dict[str, Any]]):
        super().__init__(message)
        self.checks = checks


@dataclass(frozen=True)
class Place:
    """Where a backup is restored: a new SQLite file, or a new database on the tenant's PostgreSQL server."""

    url: str
    sqlite_path: Path | None = None
    admin_url: str | None = None
    database: str | None = None
    role: str | None = None

    def drop(self) -> None:
        if self.sqlite_path is not None:
            for path in (self.sqlite_path, *(self.sqlite_path.with_name(self.sqlite_path.name + s) for s in ("-wal", "-shm"))):
                path.unlink(missing_ok=True)
        else:
            drop_restore_database(self.admin_url, self.database)


def restore_verified(file: Path, *, key: bytes, tenant: str, place: Place, work: Path,
                     progress: Progress = lambda _step: None) -> dict[str, Any]:
    """Unseal `file` into `work`, restore its database at `place` and verify it; a failed restore is dropped."""
    progress("decrypting and checking the backup")
    manifest = unseal(file, key=key, tenant=tenant, work=work)
    progress(f"restoring the database ({manifest['backend']})")
    try:
        _load(manifest, work, place)
        progress("verifying row counts, audit chain, personal data and keys")
        checks = verify(manifest, work, place.url)
    except BaseException:
        place.drop()
        raise
    failed = [check for check in checks if not check["ok"]]
    if failed:
        place.drop()
        raise RestoreError("the restored database failed verification: " + "; ".join(
            f"{check['check']}: {check['detail']}" for check in failed), checks)
    return {"manifest": {k: manifest[k] for k in ("tenant", "code", "backend", "taken_at", "audit_head", "migration")},
            "checks": checks}


def _load(manifest: dict[str, Any], work: Path, place: Place) -> None:
    if manifest["backend"] != ("sqlite" if place.sqlite_path is not None else "postgresql"):
        raise TargetError(f"this backup holds a {manifest['backend']} database; the tenant is on another backend")
    dump = work / manifest["database"]
    if place.sqlite_path is not None:
        fd = os.open(place.sqlite_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never over an existing file
        with os.fdopen(fd, "wb") as target, dump.open("rb") as source:
            shutil.copyfileobj(source, target)
        return
    pg_restore = shutil.which("pg_restore")
    if pg_restore is None:
        raise TargetError("pg_restore is not installed (Debian: apt-get install postgresql-client)")
    create_restore_database(place.admin_url, database=place.database, role=place.role)
    run_pg(pg_restore, place.url, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", str(dump),
           what=f"pg_restore into {place.database}")


def verify(manifest: dict[str, Any], work: Path, url: str) -> list[dict[str, Any]]:
    """Each check of the restored database at `url` against the manifest and the keys unsealed in `work`."""
    engine = create_engine(url)
    keys = work / "keys"
    try:
        with engine.connect() as connection:
            facts = database_facts(connection)
        checks = [_check("checksums", True, f"{len(manifest['files'])} files match the manifest"),
                  _row_counts(manifest["row_counts"], facts["row_counts"]),
                  _check("migration", facts["migration"] == manifest["migration"], f"{facts['migration']}"),
                  _audit_chain(engine, keys, work, manifest["audit_head"]),
                  _personal_data(engine, keys)]
        problems = key_problems(engine, keys)
        checks.append(_check("keys", not problems, "; ".join(problems) or "the restored keys are those the data "
                                                                           "depends on"))
    finally:
        engine.dispose()
    return checks


def _check(name: str, ok: bool, detail: str) -> dict[str, Any]:
    return {"check": name, "ok": bool(ok), "detail": detail}


def _row_counts(expected: dict[str, int], found: dict[str, int]) -> dict[str, Any]:
    wrong = {table: (expected.get(table), found.get(table)) for table in expected.keys() | found.keys()
             if expected.get(table) != found.get(table)}
    detail = (", ".join(f"{t}: {e} backed up, {f} restored" for t, (e, f) in sorted(wrong.items())) if wrong
              else f"{sum(found.values())} rows in {len(found)} tables")
    return _check("row_counts", not wrong, detail)


def _audit_chain(engine, keys: Path, work: Path, head: dict[str, Any]) -> dict[str, Any]:
    checkpoint = work / "verify-checkpoint.json"  # verification moves the checkpoint on: work on a copy
    if (work / CHECKPOINT).is_file():
        shutil.copyfile(work / CHECKPOINT, checkpoint)
    with Session(engine) as session:
        verdict = audit.verify(session, anchor=AuditAnchor(keys, checkpoint))
    reached = (verdict.through_seq, verdict.through_hash or GENESIS_HASH) == (head["seq"], head["hash"])
    if not verdict.ok:
        return _check("audit_chain", False, f"broken at entry {verdict.first_broken_seq}: {verdict.reason}")
    return _check("audit_chain", reached, f"verified from genesis to entry {verdict.through_seq}"
                  + ("" if reached else f", but the backup recorded the head at entry {head['seq']}"))


def _personal_data(engine, keys: Path) -> dict[str, Any]:
    # every version of the field key the backup holds: a rotated tenant's rows may be under any of them
    ring, index_key = FieldKeyRing.load(keys), (keys / INDEX_KEY).read_bytes()
    indexed = {table: column for table, column in BLIND_INDEX_COLUMNS}
    decrypted = failed = 0
    with engine.connect() as connection:
        for table, column, context in ENCRYPTED_COLUMNS:
            index = indexed.get(table) if column == "id_number_cipher" else None
            rows = connection.execute(text(f"SELECT {column}{f', {index}' if index else ''} FROM {table} "
                                           f"WHERE {column} IS NOT NULL LIMIT {SAMPLE}"))
            for row in rows:
                try:
                    plain = ring.decrypt(row[0], context=context.encode())
                except crypto.DecryptionError:
                    failed += 1
                    continue
                if index and row[1] is not None and crypto.hmac_sm3(index_key, plain.upper()) != row[1]:
                    failed += 1
                    continue
                decrypted += 1
    return _check("personal_data", not failed, f"{decrypted} sampled values decrypted"
                  + (f", {failed} did not decrypt or match their blind index" if failed else ""))
