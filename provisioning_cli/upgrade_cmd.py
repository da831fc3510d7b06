"""`fsp upgrade`: migrate the fleet's databases in waves, the pilots first, halting at the first breach (see
provisioning_cli.upgrade); `--rollback` takes the wave that failed back to where it was."""
from typing import Annotated

import typer
from rich.console import Console

from provisioning_cli.backup_archive import backup_key
from provisioning_cli.backup_take import backup_directory
from provisioning_cli.common import boundary, fleet_selection, open_target
from provisioning_cli.lifecycle import skipped_by_fleet
from provisioning_cli.options import DEFAULT_HOME, AllOpt, BackupKeyOpt, CatalogOpt, HomeOpt, JsonOpt, TenantsArg
from provisioning_cli.output import fail, print_json, print_table
from provisioning_cli.targets import NotProvisionedError
from provisioning_cli.targets.local_state import read_json
from provisioning_cli.upgrade import WAIT_SECONDS, Rollout, plan_waves, target_revision

WAVES = ("pilots", "rest")
ToOpt = Annotated[str | None, typer.Option("--to", metavar="VERSION",
                                           help="Migration revision to go to (default: this kit's head).")]
WavesOpt = Annotated[str, typer.Option("--waves", metavar="WAVES",
                                       help="Waves after the ministry, in order: pilots (the catalog's pilot "
                                            "provinces) and rest (the others).")]
SoakOpt = Annotated[float, typer.Option("--soak", min=0, metavar="SECONDS",
                                        help="After each wave, watch its readiness and the fleet's alerts this long.")]
ReadyTimeoutOpt = Annotated[float, typer.Option("--ready-timeout", min=1, metavar="SECONDS",
                                                help="How long a tenant may take to leave `fsp serve` or to be "
                                                     "ready again before it counts as a breach.")]
RollbackOpt = Annotated[bool, typer.Option("--rollback", help="On a breach, take the wave that failed back to its "
                                                              "revisions (downgrade, or restore the backup).")]


def upgrade(
    tenants: TenantsArg = None,
    all_: AllOpt = False,
    to: ToOpt = None,
    waves: WavesOpt = "pilots,rest",
    soak: SoakOpt = 0.0,
    rollback: RollbackOpt = False,
    ready_timeout: ReadyTimeoutOpt = WAIT_SECONDS,
    backup_key_file: BackupKeyOpt = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Upgrade tenants' databases wave by wave (the ministry first): back up, take out of `fsp serve`, migrate,
    serve again, check ready; after each wave soak; halt at the first breach, exit 1."""
    names = [name.strip() for name in waves.split(",") if name.strip()]
    if not names or any(name not in WAVES for name in names) or len(set(names)) != len(names):
        fail(f"--waves {waves!r}: a comma-separated list of {' and '.join(WAVES)}, each once")
    local = open_target(home, catalog)
    named, fleet = fleet_selection(local.catalog, tenants, pilots=False, all_=all_, verb="upgrade")
    for spec in named:
        if not local.is_provisioned(spec):
            fail(str(NotProvisionedError(spec.slug)))
    states = {spec.slug: read_json(local.home.tenant(spec.slug).state) for spec in fleet}
    skipped = [spec.slug for spec in fleet if local.is_provisioned(spec) and skipped_by_fleet(states[spec.slug])]
    chosen = named + [spec for spec in fleet if local.is_provisioned(spec) and spec.slug not in skipped]
    console = Console(stderr=True, highlight=False)
    with boundary():
        to_revision = target_revision(to)
        plan = plan_waves(local, chosen, names)
        if not plan:
            fail("no provisioned tenant to upgrade")
        key = backup_key(backup_key_file, backup_dir=backup_directory(local, local.catalog.resolve(plan[0].tenants[0].tenant)))
        with local.home.lock():
            report = Rollout(local, to_revision, key=key, soak=soak, say=console.print, wait=ready_timeout).run(plan, rollback=rollback)
    placed = {item.tenant for wave in plan for item in wave.tenants}
    report["skipped"] = skipped
    report["left_out"] = [spec.slug for spec in chosen if spec.slug not in placed]  # in none of --waves
    if json_:
        print_json(report)
    else:
        _print(report)
    if report["breach"]:
        breach = report["breach"]
        typer.echo(f"error: upgrade halted in wave {breach['wave']}: {breach['tenant']}: {breach['step']}: "
                   f"{breach['reason']}", err=True)
        raise typer.Exit(code=1)


def _print(report: dict) -> None:
    print_table(["wave", "tenant", "from", "to", "outcome", "rollback", "seconds"], (
        [wave["name"], t["tenant"], t["from_revision"], t["to_revision"],
         t["outcome"] + (f" ({t['step']}: {t['reason']})" if t["reason"] else ""), t["rollback"], t["seconds"]]
        for wave in report["waves"] for t in wave["tenants"]))
    typer.echo(f"upgrade to {report['to']}: {report['outcome']} in {report['seconds']:g} s; alerts {report['alerts']}"
               + (f"; skipped (suspended or offboarded): {', '.join(report['skipped'])}" if report["skipped"] else "")
               + (f"; in none of --waves: {', '.join(report['left_out'])}" if report["left_out"] else ""))
