"""`fsp preview`: what `fsp up --target kubernetes` would change, checked by the policy pack, changing nothing."""
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from provisioning_cli.common import DEFAULT_HOME, HomeOpt, PostgresOpt, TenantArg, boundary, print_results
from provisioning_cli.output import CatalogOpt, JsonOpt, fail, open_catalog, resolve_tenant

if TYPE_CHECKING:
    from provisioning_cli.targets.kubernetes import KubernetesTarget

BackendOpt = Annotated[
    str | None,
    typer.Option("--backend-url", envvar="FSP_PULUMI_BACKEND_URL", metavar="URL", show_envvar=True,
                 help="Pulumi state backend (default: file:// under $FSP_HOME/pulumi)."),
]
KubernetesOnlyOpt = Annotated[
    str, typer.Option("--target", help="Only kubernetes: the local target reports its changes with `fsp up`."),
]


def kubernetes_target(home: Path, catalog: Path | None, backend_url: str | None = None) -> "KubernetesTarget":
    """The Kubernetes target over the catalog at `catalog` (default: packaged)."""
    # imported here: Pulumi and its Kubernetes SDK would slow every other fsp command's start
    from provisioning_cli.targets.kubernetes import KubernetesTarget

    return KubernetesTarget(home, open_catalog(catalog), backend_url=backend_url)


def require_kubernetes(target: str, command: str) -> None:
    if target != "kubernetes":
        fail(f"`fsp {command}` is for --target kubernetes; the local target reports its changes with `fsp up`")


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
