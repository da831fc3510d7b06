"""Taking a backup (`fsp backup TENANT`): one sealed file with a consistent copy of the tenant's database and its keys.
`fsp backup drill TENANT`: restore the newest backup into a scratch database, verify it, drop it, record the result.

SQLite tenants are copied with SQLite's online backup API (writers may go on meanwhile); PostgreSQL tenants with
`pg_dump --format=custom` inside one exported snapshot, in which the manifest's row counts are read too (the
password passed in the environment, never on the command line). The registry's /metrics reports the newest
complete backup and the last drill; the fleet alerts when either grows stale or the drill failed.
"""
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, make_url

from infra.ensure.files import ensure_private_dir
from provisioning_cli.backup_archive import SUFFIX, file_entry, seal
from provisioning_cli.backup_facts import database_facts
from provisioning_cli.targets import TargetError
from registry.config import Settings
from registry.metrics import BACKUP_STAMP_FORMAT

PARTIAL = ".partial"  # a backup being written; the registry ignores it
DATABASE = {"sqlite": "database.sqlite3", "postgresql": "database.dump"}
CHECKPOINT = "audit-checkpoint.json"


def backup_directory(local, spec) -> Path:
    return local.settings(spec).backup_dir or local.home.tenant(spec.slug).root / "backups"


def take_backup(settings: Settings, directory: Path, *, key: bytes, at: datetime | None = None,
                fresh: bool = False) -> dict[str, Any]:
    """Write `<slug>-<UTC stamp>.fspbackup` in `directory`; the same second's backup is not taken twice, unless
    `fresh` asks for one of the data as it is now (then it waits for the next second's name)."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    while fresh and _named(settings, directory, at).exists():
        time.sleep(1 - at.microsecond / 1_000_000)  # names are per second: the next one is free
        at = datetime.now(UTC)
    backend = "sqlite" if settings.is_sqlite else "postgresql"
    ensure_private_dir(directory)
    final = _named(settings, directory, at)
    outcome = "unchanged"
    manifest: dict[str, Any] = {}
    if not final.exists():
        partial = final.with_name(final.name + PARTIAL)
        try:
            with private_workdir(directory) as work:
                manifest = _collect(settings, backend, work, at)
                seal(work, manifest, key=key, into=partial)
            os.replace(partial, final)  # a partial file never carries a backup's name
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        outcome = "created"
    return {"tenant": settings.tenant_slug, "backend": backend, "outcome": outcome, "file": str(final),
            "bytes": final.stat().st_size, "taken_at": at.isoformat(timespec="seconds"),
            "audit_head": manifest.get("audit_head"), "row_counts": manifest.get("row_counts")}


def _named(settings: Settings, directory: Path, at: datetime) -> Path:
    return directory / f"{settings.tenant_slug}-{at.strftime(BACKUP_STAMP_FORMAT)}.{SUFFIX}"


@contextmanager
def private_workdir(near: Path):
    """A scratch directory only the owner can enter, removed afterwards (in `near`: same disk, same protection)."""
    ensure_private_dir(near)
    work = Path(tempfile.mkdtemp(prefix=".work-", dir=near))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _collect(settings: Settings, backend: str, work: Path, at: datetime) -> dict[str, Any]:
    """The database, keys and audit checkpoint copied into `work`, and the manifest describing them."""
    files: list[str] = []
    checkpoint = settings.audit_checkpoint_path
    # copied before the database: the checkpoint may then lag the copied chain, never run ahead of it
    if checkpoint.is_file():
        shutil.copyfile(checkpoint, work / CHECKPOINT)
        files.append(CHECKPOINT)
    database = work / DATABASE[backend]
    facts = _sqlite_backup(settings.database_url, database) if backend == "sqlite" else _pg_dump(settings.database_url,
                                                                                                  database)
    files.append(database.name)
    keys = work / "keys"
    keys.mkdir(mode=0o700)
    if not settings.keys_dir.is_dir():
        raise TargetError(f"the tenant's keys directory {settings.keys_dir} is missing")
    for path in sorted(settings.keys_dir.iterdir()):
        if path.is_file():
            shutil.copyfile(path, keys / path.name)
            files.append(f"keys/{path.name}")
    return {"format": 1, "tenant": settings.tenant_slug, "code": settings.tenant_code, "backend": backend,
            "taken_at": at.isoformat(timespec="seconds"), "database": database.name,
            "files": {name: file_entry(work / name) for name in files}, **facts}


def _sqlite_backup(url: str, into: Path) -> dict[str, Any]:
    source_path = make_url(url).database
    if not source_path or not Path(source_path).is_file():
        raise TargetError(f"the tenant's SQLite database {source_path} is missing")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(into)
        try:
            source.backup(target)
        finally:
            target.close()
    except sqlite3.Error as err:
        raise TargetError(f"SQLite backup of {source_path} failed: {err}") from None
    finally:
        source.close()
    engine = create_engine(f"sqlite:///{into}")
    try:
        with engine.connect() as connection:  # the copy itself: its counts are those of the backup
            return database_facts(connection)
    finally:
        engine.dispose()


def _pg_dump(url: str, into: Path) -> dict[str, Any]:
    """pg_dump inside a snapshot this process exported, after reading the manifest's facts in that snapshot."""
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise TargetError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    parsed = make_url(url)
    engine = create_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection, connection.begin():
            snapshot = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
            facts = database_facts(connection)
            run_pg(pg_dump, url, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                   f"--file={into}", what=f"pg_dump of {parsed.database}")
    finally:
        engine.dispose()
    return facts


def run_pg(program: str, url: str, *args: str, what: str) -> None:
    """Run a PostgreSQL client program against `url`; the password in the environment, never in the arguments."""
    parsed = make_url(url)
    conninfo = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    done = subprocess.run([program, *args, f"--dbname={conninfo}"], env=env, capture_output=True, text=True,
                          timeout=3600)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise TargetError(f"{what} failed: {reason}")
