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
from provisioning_cli.preview_cmd import BackendOpt, kubernetes_target
from provisioning_cli.targets import TARGETS


def up(
    tenants: Annotated[list[str] | None, typer.Argument(help="Tenants by slug or code.", show_default=False)] = None,
    pilots: Annotated[bool, typer.Option("--pilots", help="The pilot provinces.")] = False,
    all_: Annotated[bool, typer.Option("--all", help="The ministry and every province.")] = False,
    target: Annotated[str, typer.Option("--target", help=f"Where to provision: {' or '.join(TARGETS)}.")] = "local",
    postgres: PostgresOpt = None,
    backend_url: BackendOpt = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Provision tenants (the ministry first whenever a province needs it); report each resource's outcome."""
    if target not in TARGETS:
        fail(f"unknown target {target!r}; choose one of: {', '.join(TARGETS)}")
    if target == "kubernetes":
        _up_kubernetes(tenants or [], pilots, all_, postgres, backend_url, json_, home, catalog)
        return
    local = open_target(home, catalog)
    specs = [resolve_tenant(local.catalog, ref) for ref in tenants or []]
    specs += local.catalog.pilots if pilots else ()
    specs += local.catalog.tenants if all_ else ()
    if not specs:
        fail("name the tenants to provision (slug or code), or pass --pilots or --all")
    with boundary(), tenant_progress(len(local.plan(specs)), "provisioning") as advance:
        results = local.converge(specs, postgres_url=postgres, on_tenant=advance)
    print_results(results, json_)


def _up_kubernetes(refs: list[str], pilots: bool, all_: bool, postgres: str | None, backend_url: str | None,
                   json_: bool, home, catalog) -> None:
    """One Pulumi stack per tenant; provinces first, so the ministry's hub is given their registered keys."""
    kube = kubernetes_target(home, catalog, backend_url)
    wanted = {resolve_tenant(kube.catalog, ref).slug for ref in refs}
    wanted |= {spec.slug for spec in kube.catalog.pilots} if pilots else set()
    wanted |= {spec.slug for spec in kube.catalog.tenants} if all_ else set()
    if not wanted:
        fail("name the tenants to provision (slug or code), or pass --pilots or --all")
    specs = sorted((s for s in kube.catalog.tenants if s.slug in wanted), key=lambda s: s.kind == "ministry")
    results = []
    with boundary():
        for spec in specs:
            results += kube.up(spec, postgres_url=postgres)
    print_results(results, json_)
