"""`fsp restore TENANT --from FILE [--into NEW_DB]`: a backup restored into a fresh database and verified.

With --into the restored database stays beside the tenant's (its keys and checkpoint under
$FSP_HOME/tenants/<slug>/restored/<name>/); without, it replaces the tenant's database, keys and audit checkpoint,
only with --yes and only after a backup of what is there now.
"""
import os
import shutil
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlmodel import Session

from infra.ensure.database import swap_in_database
from infra.ensure.files import ensure_private_dir, write_atomic
from provisioning_cli.backup_archive import backup_key
from provisioning_cli.backup_take import CHECKPOINT, backup_directory, private_workdir, take_backup
from provisioning_cli.common import boundary, open_target
from provisioning_cli.options import DEFAULT_HOME, BackupKeyOpt, CatalogOpt, HomeOpt, JsonOpt, TenantArg
from provisioning_cli.output import fail, print_json, print_table, resolve_tenant
from provisioning_cli.restore import Place, RestoreError, restore_verified
from provisioning_cli.restore_places import backend_of, live_database, place_named
from registry import db
from registry.config import Settings
from registry.journal import Journal

FromOpt = Annotated[Path, typer.Option("--from", metavar="FILE", help="The backup file (.fspbackup).")]
IntoOpt = Annotated[str | None, typer.Option(
    "--into", metavar="NEW_DB", help="Restore beside the tenant instead of over it: a new SQLite file path, or a new "
                                     "database name on the tenant's PostgreSQL server.")]
YesOpt = Annotated[bool, typer.Option("--yes", help="Restore over the tenant's own database and keys.")]


def restore(tenant: TenantArg, from_: FromOpt, into: IntoOpt = None, yes: YesOpt = False,
            backup_key_file: BackupKeyOpt = None, json_: JsonOpt = False, home: HomeOpt = DEFAULT_HOME,
            catalog: CatalogOpt = None) -> None:
    """Decrypt a backup, restore it into a fresh database, verify checksums, row counts, the audit chain and
    personal data; then (without --into, with --yes) put it in place of the tenant's database and keys."""
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    if into is None and not yes:
        fail(f"restoring over {spec.slug} replaces its database and keys: pass --yes (a backup of them is taken "
             "first), or --into NEW_DB to restore beside it")

    def progress(step: str) -> None:
        typer.echo(f"{spec.slug}: {step}", err=True)

    with boundary():
        settings = local.settings(spec)
        directory = backup_directory(local, spec)
        key = backup_key(backup_key_file, backup_dir=directory)
        try:
            if into is not None:
                report = _restore_beside(local, spec, from_, key, into, progress)
            else:
                with local.home.lock():
                    report = restore_over(local, spec, settings, directory, from_, key, progress)
        except RestoreError as err:
            if json_:
                print_json({"tenant": spec.slug, "outcome": "failed", "problem": str(err), "checks": err.checks})
            raise
    report = {"tenant": spec.slug, "outcome": "restored", **report}
    if json_:
        print_json(report)
        return
    print_table(["check", "ok", "detail"], ([c["check"], "yes" if c["ok"] else "NO", c["detail"]] for c in report["checks"]))
    typer.echo(f"{spec.slug}: restored {report['database']} from the backup taken {report['manifest']['taken_at']}")


def _restore_beside(local, spec, file: Path, key: bytes, into: str, progress) -> dict[str, Any]:
    place = place_named(local, spec, into)
    name = Path(into).name if place.sqlite_path is not None else into
    with private_workdir(local.home.tenant(spec.slug).root) as work:
        report = restore_verified(file, key=key, tenant=spec.slug, place=place, work=work, progress=progress)
        kept = local.home.tenant(spec.slug).root / "restored" / name
        ensure_private_dir(kept.parent)
        if kept.exists():
            shutil.rmtree(kept)
        ensure_private_dir(kept)
        _install_keys(work, kept / "keys", kept / CHECKPOINT)
    progress(f"keys and audit checkpoint of the restored database are in {kept}")
    return {**report, "database": str(place.sqlite_path or place.database), "keys": str(kept / "keys"),
            "pre_restore_backup": None}


def restore_over(local, spec, settings: Settings, directory: Path, file: Path, key: bytes, progress) -> dict[str, Any]:
    live, exists = live_database(local, spec)
    before = None
    if exists:  # what is there now can be had back
        progress("backing up the tenant's database and keys first")
        before = take_backup(settings, directory, key=key, fresh=True)["file"]
    restoring = f"{live}.restoring" if backend_of(local, spec) == "sqlite" else f"{live}_restoring"
    place = place_named(local, spec, restoring, replace_leftover=True)
    with private_workdir(local.home.tenant(spec.slug).root) as work:
        report = restore_verified(file, key=key, tenant=spec.slug, place=place, work=work, progress=progress)
        progress("putting the restored database, keys and audit checkpoint in place")
        _swap_in(place, live)
        _install_keys(work, settings.keys_dir, settings.audit_checkpoint_path)
    _audit_restore(settings, file, report["manifest"], before)
    progress("restart `fsp serve` so the registry opens the restored database")
    return {**report, "database": live, "keys": str(settings.keys_dir), "pre_restore_backup": before}


def _audit_restore(settings: Settings, file: Path, manifest: dict[str, Any], before: str | None) -> None:
    """The restored chain records that it was restored, from which backup, and what was backed up first."""
    engine = db.make_engine(settings)
    try:
        journal = Journal.of(engine, keys_dir=settings.keys_dir, checkpoint_file=settings.audit_checkpoint_path)
        with Session(engine) as session, journal.write(session, actor="fsp restore") as unit:
            unit.record(action="restore", object_type="tenant", object_id=settings.tenant_slug,
                        detail={"backup": file.name, "taken_at": manifest["taken_at"],
                                "audit_head": manifest["audit_head"]["seq"],
                                "pre_restore_backup": Path(before).name if before else None})
        journal.anchor.flush()
    finally:
        engine.dispose()


def _swap_in(place: Place, live: str) -> None:
    if place.sqlite_path is not None:
        for suffix in ("-wal", "-shm"):  # the old database's journal must not be replayed into the new one
            Path(live + suffix).unlink(missing_ok=True)
        os.replace(place.sqlite_path, live)
    else:
        swap_in_database(place.admin_url, restored=place.database, live=live)


def _install_keys(work: Path, keys_dir: Path, checkpoint: Path) -> None:
    """The backed-up keys replace the directory's (0700, files 0600), and the checkpoint the chain's."""
    staged = keys_dir.with_name(keys_dir.name + ".restoring")
    shutil.rmtree(staged, ignore_errors=True)
    ensure_private_dir(staged)
    for path in sorted((work / "keys").iterdir()):
        write_atomic(staged / path.name, path.read_bytes(), mode=0o600)
    old = keys_dir.with_name(keys_dir.name + ".replaced")
    shutil.rmtree(old, ignore_errors=True)
    if keys_dir.exists():
        keys_dir.rename(old)
    staged.rename(keys_dir)
    shutil.rmtree(old, ignore_errors=True)
    if (work / CHECKPOINT).is_file():
        write_atomic(checkpoint, (work / CHECKPOINT).read_bytes(), mode=0o600)
    else:
        checkpoint.unlink(missing_ok=True)
