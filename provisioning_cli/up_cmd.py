"""`fsp up`: provision tenants on a target, or converge them again (a re-run changes nothing).

On the local target it converges every tenant it can and reports the others: one summary line per tenant, each
failure named with its step and reason, exit 1 when any failed; `--parallel N` takes the provinces N at a time.
"""
from typing import Annotated

import typer

from provisioning_cli.common import (
    boundary,
    check_target,
    fleet_selection,
    kubernetes_target,
    named_tenants,
    open_target,
    print_convergence,
    print_results,
    tenant_progress,
)
from provisioning_cli.options import (
    DEFAULT_HOME,
    AllOpt,
    BackendOpt,
    CatalogOpt,
    HomeOpt,
    JsonOpt,
    PilotsOpt,
    PostgresOpt,
    TargetOpt,
    TenantsArg,
)

ParallelOpt = Annotated[int, typer.Option(
    "--parallel", min=1, max=32, metavar="N",
    help="Converge the provinces N at a time (after the ministry), each in its own process.")]


def up(
    tenants: TenantsArg = None,
    pilots: PilotsOpt = False,
    all_: AllOpt = False,
    target: TargetOpt = "local",
    postgres: PostgresOpt = None,
    backend_url: BackendOpt = None,
    parallel: ParallelOpt = 1,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Provision tenants (the ministry first whenever a province needs it); report each resource's outcome.
    `--all` is the ministry and every province (suspended and offboarded ones only when named). Goes on past a
    tenant that fails, names it with the failed step and reason, and exits 1."""
    check_target(target)
    if target == "kubernetes":
        _up_kubernetes(tenants, pilots, all_, postgres, backend_url, json_, home, catalog)
        return
    local = open_target(home, catalog)
    named, fleet = fleet_selection(local.catalog, tenants, pilots=pilots, all_=all_, verb="provision")
    with boundary(), tenant_progress(len(local.plan([*named, *fleet])), "provisioning") as advance:
        report = local.converge(named, fleet=fleet, postgres_url=postgres, on_tenant=advance, parallel=parallel)
    print_convergence(report, json_)


def _up_kubernetes(refs: list[str] | None, pilots: bool, all_: bool, postgres: str | None, backend_url: str | None,
                   json_: bool, home, catalog) -> None:
    """One Pulumi stack per tenant; provinces first, so the ministry's hub is given their registered keys."""
    kube = kubernetes_target(home, catalog, backend_url)
    wanted = named_tenants(kube.catalog, refs, pilots=pilots, all_=all_)
    specs = sorted((s for s in kube.catalog.tenants if s in wanted), key=lambda s: s.kind == "ministry")
    results = []
    with boundary():
        for spec in specs:
            results += kube.up(spec, postgres_url=postgres)
    print_results(results, json_)
