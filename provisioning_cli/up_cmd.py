"""`fsp up`: provision tenants on a target, or converge them again (a re-run changes nothing)."""
from typing import Annotated

import typer

from provisioning_cli.common import (
    DEFAULT_HOME,
    HomeOpt,
    PostgresOpt,
    boundary,
    open_target,
    print_results,
    tenant_progress,
)
from provisioning_cli.output import CatalogOpt, JsonOpt, fail, resolve_tenant
from provisioning_cli.targets import TARGETS


def up(
    tenants: Annotated[list[str] | None, typer.Argument(help="Tenants by slug or code.", show_default=False)] = None,
    pilots: Annotated[bool, typer.Option("--pilots", help="The pilot provinces.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="The ministry and every province.")] = False,
    target: Annotated[str, typer.Option("--target", help=f"Where to provision: {' or '.join(TARGETS)}.")] = "local",
    postgres: PostgresOpt = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Provision tenants (the ministry first whenever a province needs it); report each resource's outcome."""
    if target == "kubernetes":
        fail("kubernetes target: see `fsp plan` (not built yet); use --target local")
    if target not in TARGETS:
        fail(f"unknown target {target!r}; choose one of: {', '.join(TARGETS)}")
    local = open_target(home, catalog)
    specs = [resolve_tenant(local.catalog, ref) for ref in tenants or []]
    specs += local.catalog.pilots if pilots else ()
    specs += local.catalog.tenants if all_ else ()
    if not specs:
        fail("name the tenants to provision (slug or code), or pass --pilots or --all")
    with boundary(), tenant_progress(len(local.plan(specs)), "provisioning") as advance:
        results = local.converge(specs, postgres_url=postgres, on_tenant=advance)
    print_results(results, json_)
