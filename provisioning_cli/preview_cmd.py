"""`fsp preview`: what `fsp up --target kubernetes` would change, checked by the policy pack, changing nothing."""
from provisioning_cli.common import boundary, kubernetes_target, print_results, require_kubernetes
from provisioning_cli.options import (
    DEFAULT_HOME,
    BackendOpt,
    CatalogOpt,
    HomeOpt,
    JsonOpt,
    KubernetesOnlyOpt,
    PostgresOpt,
    TenantArg,
)
from provisioning_cli.output import resolve_tenant


def preview(
    tenant: TenantArg,
    target: KubernetesOnlyOpt = "kubernetes",
    postgres: PostgresOpt = None,
    backend_url: BackendOpt = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Preview a tenant's Kubernetes stack through the Pulumi engine (needs the pulumi CLI); changes nothing."""
    require_kubernetes(target, "preview")
    kube = kubernetes_target(home, catalog, backend_url)
    spec = resolve_tenant(kube.catalog, tenant)
    with boundary():
        results = kube.preview(spec, postgres_url=postgres)
    print_results(results, json_)
