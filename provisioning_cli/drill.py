"""`fsp backup drill TENANT`: the newest backup restored into a scratch database, verified, dropped; the result
(time, outcome) is written to the backup directory's `drill.json`, which the registry's /metrics reports."""
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from infra.ensure.files import write_atomic
from provisioning_cli.backup_archive import backup_key
from provisioning_cli.backup_take import backup_directory, private_workdir
from provisioning_cli.common import boundary, open_target
from provisioning_cli.output import print_json, print_table, resolve_tenant
from provisioning_cli.restore import restore_verified
from provisioning_cli.restore_places import backend_of, live_database, place_named
from provisioning_cli.targets import TargetError
from registry.metrics import DRILL_FILE, newest_backup


def drill(tenant: str, backup_key_file: Path | None, json_: bool, home: Path, catalog: Path | None) -> None:
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    with boundary():
        directory = backup_directory(local, spec)
        key = backup_key(backup_key_file, backup_dir=directory)
        result = run_drill(local, spec, directory, key)
    if json_:
        print_json(result)
    else:
        print_table(["tenant", "outcome", "backup", "seconds", "problem"],
                    [[result["tenant"], result["outcome"], result["file"], result["seconds"], result["problem"]]])
    if result["outcome"] != "ok":
        raise typer.Exit(code=1)


def run_drill(local, spec, directory: Path, key: bytes) -> dict[str, Any]:
    """Drill the newest backup in `directory`; a failure is recorded like a success, then reported."""
    started, at = time.monotonic(), datetime.now(UTC)
    newest = newest_backup(directory)
    result: dict[str, Any] = {"tenant": spec.slug, "at": at.isoformat(timespec="seconds"),
                              "file": str(newest) if newest else None, "outcome": "ok", "problem": None, "checks": []}
    try:
        if newest is None:
            raise TargetError(f"no backup of {spec.slug} in {directory}: take one with `fsp backup {spec.slug}`")
        with private_workdir(local.home.tenant(spec.slug).root) as work:
            live, _ = live_database(local, spec)
            scratch = str(work / "drill.sqlite3") if backend_of(local, spec) == "sqlite" else f"{live}_drill"
            place = place_named(local, spec, scratch, replace_leftover=True)
            report = restore_verified(newest, key=key, tenant=spec.slug, place=place, work=work)
            place.drop()
            result["checks"] = report["checks"]
    except TargetError as err:
        result.update(outcome="failed", problem=str(err), checks=getattr(err, "checks", []))
    result["seconds"] = round(time.monotonic() - started, 1)
    write_atomic(directory / DRILL_FILE, json.dumps(result, ensure_ascii=False).encode(), mode=0o600)
    return result
