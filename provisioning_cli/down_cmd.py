"""`fsp down`: stop serving a tenant (data kept) inside a maintenance window, or with --purge delete all it has."""
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer

from provisioning_cli import maintenance
from provisioning_cli.common import boundary, check_target, kubernetes_target, open_target, print_results
from provisioning_cli.options import (
    DEFAULT_HOME,
    AlertmanagerOpt,
    BackendOpt,
    CatalogOpt,
    ForOpt,
    HomeOpt,
    JsonOpt,
    PostgresOpt,
    ReasonOpt,
    TargetOpt,
    TenantArg,
    UntilOpt,
)
from provisioning_cli.output import fail, resolve_tenant
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_state import read_json
from tenants import TenantSpec

DEFAULT_REASON = "planned downtime (fsp down)"
DEFAULT_WINDOW = "1h"


def _interactive() -> bool:
    return sys.stdin.isatty()


def down(
    tenant: TenantArg,
    purge: Annotated[bool, typer.Option("--purge", help="Also delete its database, keys, state and registration.")]
    = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Purge without asking.")] = False,
    reason: ReasonOpt = None,
    until: UntilOpt = None,
    for_: ForOpt = None,
    alertmanager_url: AlertmanagerOpt = None,
    target: TargetOpt = "local",
    postgres: PostgresOpt = None,
    backend_url: BackendOpt = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Take a tenant down: not served any more, its data kept, inside a maintenance window (--reason, asked for at
    a terminal; the end from --until or --for, default 1h) whose silence keeps its alerts quiet until it ends;
    `--purge` deletes it for good."""
    check_target(target)
    local = open_target(home, catalog) if target == "local" else kubernetes_target(home, catalog, backend_url)
    spec = resolve_tenant(local.catalog, tenant)
    if purge and not yes:
        if not _interactive():
            fail(f"--purge deletes {spec.slug}'s database, keys and state for good: pass --yes to confirm")
        if not typer.confirm(f"Delete {spec.slug}'s database, keys and state for good?", err=True):
            fail("purge cancelled; nothing deleted")
    if target == "local" and not purge:
        if reason is None and _interactive():
            reason = typer.prompt(f"Why is {spec.slug} going down (shown while it is in maintenance)?", err=True)
        with boundary(), maintenance.errors():
            results = _planned_down(local, spec, reason=reason, until=until, for_=for_,
                                    alertmanager=alertmanager_url or maintenance.local_alertmanager(home))
        print_results(results, json_)
        return
    with boundary():
        if target == "kubernetes":
            results = local.down(spec, postgres_url=postgres, purge=purge)
        else:
            results = local.purge(spec, postgres_url=postgres)
    print_results(results, json_)


def _planned_down(local: LocalTarget, spec: TenantSpec, *, reason: str | None, until: str | None, for_: str | None,
                  alertmanager: str | None) -> list:
    """The window first (so no alert can fire in between), then the tenant down; a failed down closes it again.
    A tenant already in a window keeps it unless a new reason or end is given."""
    if not local.is_provisioned(spec):
        return local.down(spec)  # says it is not provisioned here
    state = read_json(local.home.tenant(spec.slug).state)
    open_now = maintenance.current_window(state)
    if open_now is not None and reason is None and until is None and for_ is None:
        outcome = "unchanged"
    else:
        end = maintenance.parse_end(until=until, for_=for_ if until or for_ else DEFAULT_WINDOW, at=datetime.now(UTC))
        maintenance.start(local, spec, reason=reason or DEFAULT_REASON, until=end, alertmanager=alertmanager)
        outcome = "updated" if open_now else "created"
    try:
        results = local.down(spec)
    except Exception:
        if outcome == "created":
            maintenance.end(local, spec, alertmanager=alertmanager)
        raise
    return [*results, (spec.slug, "maintenance", outcome)]
