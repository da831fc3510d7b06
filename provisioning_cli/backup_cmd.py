"""`fsp backup`: a consistent copy of a tenant's database, named by its UTC time, that only the owner can read.

SQLite tenants are copied with SQLite's online backup API (writers may go on meanwhile); PostgreSQL tenants with
`pg_dump --format=custom`, the password passed in the environment, never on the command line. The registry's
/metrics reports the newest complete backup, and the fleet alerts when it grows stale.
"""
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from infra.ensure.files import ensure_private_dir
from provisioning_cli.common import boundary, open_target
from provisioning_cli.options import DEFAULT_HOME, CatalogOpt, HomeOpt, JsonOpt, TenantArg
from provisioning_cli.output import print_json, print_table, resolve_tenant
from provisioning_cli.targets import TargetError
from registry.config import Settings
from registry.metrics import BACKUP_STAMP_FORMAT

PARTIAL = ".partial"  # a backup being written; the registry ignores it


def backup(tenant: TenantArg, json_: JsonOpt = False, home: HomeOpt = DEFAULT_HOME,
           catalog: CatalogOpt = None) -> None:
    """Back up a provisioned tenant's database into $FSP_HOME/tenants/<slug>/backups/ (mode 0600)."""
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    with boundary():
        settings = local.settings(spec)
        directory = settings.backup_dir or local.home.tenant(spec.slug).root / "backups"
        taken = take_backup(settings, directory)
    if json_:
        print_json(taken)
    else:
        print_table(["tenant", "backend", "outcome", "file", "bytes"],
                    [[taken["tenant"], taken["backend"], taken["outcome"], taken["file"], taken["bytes"]]])


def take_backup(settings: Settings, directory: Path, *, at: datetime | None = None) -> dict[str, Any]:
    """Write `<slug>-<UTC stamp>.<sqlite3|dump>` in `directory`; the same second's backup is not taken twice."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    backend = "sqlite" if settings.is_sqlite else "postgresql"
    suffix = "sqlite3" if settings.is_sqlite else "dump"
    ensure_private_dir(directory)
    final = directory / f"{settings.tenant_slug}-{at.strftime(BACKUP_STAMP_FORMAT)}.{suffix}"
    outcome = "unchanged"
    if not final.exists():
        partial = final.with_name(final.name + PARTIAL)
        # created 0600 before any byte is written, so the copy is never readable by others
        os.close(os.open(partial, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600))
        try:
            if settings.is_sqlite:
                _sqlite_backup(settings.database_url, partial)
            else:
                _pg_dump(settings.database_url, partial)
            os.chmod(partial, 0o600)
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        outcome = "created"
    return {"tenant": settings.tenant_slug, "backend": backend, "outcome": outcome, "file": str(final),
            "bytes": final.stat().st_size, "taken_at": at.isoformat(timespec="seconds")}


def _sqlite_backup(url: str, into: Path) -> None:
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


def _pg_dump(url: str, into: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise TargetError("pg_dump is not installed (Debian: apt-get install postgresql-client)")
    parsed = make_url(url)
    conninfo = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = {**os.environ}
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    done = subprocess.run([pg_dump, "--format=custom", "--no-owner", f"--file={into}", f"--dbname={conninfo}"],
                          env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise TargetError(f"pg_dump of {parsed.database} failed: {reason}")
