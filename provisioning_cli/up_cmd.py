"""`fsp up`: provision tenants on a target, or converge them again (a re-run changes nothing)."""
from provisioning_cli.common import (
    boundary,
    check_target,
    kubernetes_target,
    named_tenants,
    open_target,
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


def up(
    tenants: TenantsArg = None,
    pilots: PilotsOpt = False,
    all_: AllOpt = False,
    target: TargetOpt = "local",
    postgres: PostgresOpt = None,
    backend_url: BackendOpt = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Provision tenants (the ministry first whenever a province needs it); report each resource's outcome.
    `--all` is the ministry and every province."""
    check_target(target)
    if target == "kubernetes":
        _up_kubernetes(tenants, pilots, all_, postgres, backend_url, json_, home, catalog)
        return
    local = open_target(home, catalog)
    specs = named_tenants(local.catalog, tenants, pilots=pilots, all_=all_)
    with boundary(), tenant_progress(len(local.plan(specs)), "provisioning") as advance:
        results = local.converge(specs, postgres_url=postgres, on_tenant=advance)
    print_results(results, json_)


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
