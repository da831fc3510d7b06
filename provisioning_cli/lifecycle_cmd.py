"""`fsp suspend`, `fsp resume` and `fsp offboard` (provisioning_cli.suspension, provisioning_cli.offboard)."""
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from provisioning_cli.backup_archive import backup_key
from provisioning_cli.common import boundary, open_target
from provisioning_cli.lifecycle import lifecycle_of
from provisioning_cli.options import DEFAULT_HOME, BackupKeyOpt, CatalogOpt, HomeOpt, JsonOpt, TenantArg
from provisioning_cli.output import fail, print_json, print_table, resolve_tenant
from provisioning_cli.targets.local_state import read_json


def suspend(
    tenant: TenantArg,
    reason: Annotated[str | None, typer.Option("--reason", metavar="TEXT", help="Why (kept in its state and audit).")]
    = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Suspend a tenant: sign-ins and writes refused, public pages show a notice, exchange paused; data kept."""
    from provisioning_cli.suspension import suspend as run

    _change(lambda local, spec: run(local, spec, reason=reason), tenant, json_, home, catalog)


def resume(
    tenant: TenantArg,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Resume a suspended tenant: sign-ins and writes again, its exchange ships from where it stopped."""
    from provisioning_cli.suspension import resume as run

    _change(run, tenant, json_, home, catalog)


def _change(run: Callable[..., dict], tenant: str, json_: bool, home: Path, catalog: Path | None) -> None:
    """Suspend or resume the tenant (`run(local, spec)`) and print its row."""
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    with boundary():
        _print(run(local, spec), json_)


def _print(row: dict, json_: bool) -> None:
    if json_:
        print_json(row)
        return
    lifecycle = row["lifecycle"]
    print_table(["tenant", "outcome", "lifecycle", "reason"],
                [[row["tenant"], row["outcome"], f"{lifecycle['state']} ({lifecycle['state_zh']})", lifecycle["reason"]]])


def offboard(
    what: Annotated[str, typer.Argument(metavar="TENANT | verify-archive FILE",
                                        help="The province to offboard; `verify-archive FILE` checks an archive.")],
    file: Annotated[Path | None, typer.Argument(metavar="", show_default=False, hidden=True)] = None,
    archive: Annotated[Path | None, typer.Option("--archive", metavar="FILE",
                                                 help="Where to write the signed, sealed archive of its records.")]
    = None,
    ministry_url: Annotated[str | None, typer.Option(
        "--ministry-url", metavar="URL", show_default=False,
        help="Base URL of the ministry's registry (default: where `fsp serve` answers, under /<ministry>).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Offboard without asking.")] = False,
    backup_key_file: BackupKeyOpt = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Offboard a province for good: ship what is pending, take a final verified backup, archive every record and
    the audit chain (signed, sealed under the backup key), deregister it from the ministry, purge it.
    `fsp offboard verify-archive FILE` opens an archive with the backup key and checks it whole."""
    if what == "verify-archive":
        if file is None:
            fail("name the archive: `fsp offboard verify-archive FILE`")
        _verify(file, backup_key_file, json_, home, catalog)
        return
    if file is not None:
        fail(f"unexpected argument {str(file)!r}: `fsp offboard TENANT --archive FILE` or "
             "`fsp offboard verify-archive FILE`")
    if archive is None:
        fail("pass --archive FILE: where the archive of its records goes (kept apart from the backup key)")
    from provisioning_cli.offboard import offboard as run

    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, what)
    if spec.kind != "province":
        fail(f"{spec.slug} is the ministry: only provinces are offboarded")
    if not yes and not (typer.get_text_stream("stdin").isatty()
                        and typer.confirm(f"Offboard {spec.slug} and delete its database and keys here?", err=True)):
        fail(f"offboarding deletes {spec.slug}'s database and keys here once archived: pass --yes to confirm")
    steps: list[dict] = []

    def report(step: str, outcome: str, detail: str) -> None:
        steps.append({"step": step, "outcome": outcome, "detail": detail})
        if not json_:
            typer.echo(f"{spec.slug}: {step}: {outcome} — {detail}", err=True)

    url = (ministry_url or f"{local.base_url()}/{local.catalog.ministry.slug}").rstrip("/")
    with boundary():
        key = backup_key(backup_key_file, backup_dir=archive.resolve().parent)
        tombstone = run(local, spec, archive=archive, key=key, ministry_url=url, report=report)
    result = {"tenant": spec.slug, "lifecycle": lifecycle_of(tombstone).as_dict(), "archive": tombstone["archive"],
              "steps": steps}
    if json_:
        print_json(result)
    else:
        print_table(["step", "outcome", "detail"], ([s["step"], s["outcome"], s["detail"]] for s in steps),
                    title=f"{spec.slug} offboarded")


def _verify(file: Path, backup_key_file: Path | None, json_: bool, home: Path, catalog: Path | None) -> None:
    from provisioning_cli.offboard_archive import read_header, verify

    with boundary():
        key = backup_key(backup_key_file, backup_dir=file.resolve().parent)
        tenant = read_header(file).get("tenant")
        # the tombstone left here when it was offboarded names the key that signed the archive
        recorded = (read_json(open_target(home, catalog).home.tenant(str(tenant)).state) or {}).get("archive") or {}
        result = verify(file, key=key, work_near=file.resolve().parent, expected_key_sm3=recorded.get("signing_key_sm3"))
    if json_:
        print_json(result)
    else:
        print_table(["archive", "tenant", "rows", "audit entries", "signed by recorded key", "outcome"],
                    [[result["file"], result["tenant"], result["rows"], result["audit_entries"],
                      result["signed_by_recorded_key"], result["outcome"]]])
