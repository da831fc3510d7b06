"""`fsp maintenance start|list|end`: planned downtime as a window with a reason and an end, silenced in Alertmanager."""
from datetime import UTC, datetime

import typer

from provisioning_cli import maintenance
from provisioning_cli.common import boundary, open_target
from provisioning_cli.options import (
    DEFAULT_HOME,
    AlertmanagerOpt,
    CatalogOpt,
    ForOpt,
    HomeOpt,
    JsonOpt,
    ReasonOpt,
    TenantArg,
    UntilOpt,
)
from provisioning_cli.output import fail, print_json, print_table, resolve_tenant

app = typer.Typer(no_args_is_help=True, help="Maintenance windows: planned downtime that alerts nobody until it ends.")


@app.command()
def start(
    tenant: TenantArg,
    reason: ReasonOpt = None,
    until: UntilOpt = None,
    for_: ForOpt = None,
    alertmanager_url: AlertmanagerOpt = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Open a window for TENANT (replacing an open one): its alerts are silenced until it ends, and `fsp fleet
    status` shows it as 维护中."""
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    with boundary(), maintenance.errors():
        if reason is None:
            raise maintenance.MaintenanceError("a maintenance window needs a reason (--reason TEXT)")
        end = maintenance.parse_end(until=until, for_=for_, at=datetime.now(UTC))
        window = maintenance.start(local, spec, reason=reason, until=end,
                                   alertmanager=alertmanager_url or maintenance.local_alertmanager(home))
    show([window], json_)


@app.command("list")
def list_(json_: JsonOpt = False, home: HomeOpt = DEFAULT_HOME, catalog: CatalogOpt = None) -> None:
    """Every open window: tenant, reason, end, and whether Alertmanager holds its silence."""
    show(maintenance.windows(open_target(home, catalog)), json_)


@app.command()
def end(
    tenant: TenantArg,
    alertmanager_url: AlertmanagerOpt = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Close TENANT's window now: its silence ends and its alerts notify again."""
    local = open_target(home, catalog)
    spec = resolve_tenant(local.catalog, tenant)
    with boundary(), maintenance.errors():
        window = maintenance.end(local, spec, alertmanager=alertmanager_url or maintenance.local_alertmanager(home))
    if window is None:
        fail(f"{spec.slug} has no maintenance window")
    show([window], json_)


def show(rows: list[dict], json_: bool) -> None:
    if json_:
        print_json(rows)
        return
    print_table(["tenant", "reason", "until", "silenced"],
                ([r["tenant"], r["reason"], r["until_china"], "yes" if r["silenced"] else
                  "no (no Alertmanager running: `fsp monitoring up` silences it)"] for r in rows))
