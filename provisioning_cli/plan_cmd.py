"""`fsp plan`: every resource a tenant's Kubernetes stack declares and the policy verdicts, offline."""
import typer

from provisioning_cli.common import boundary, kubernetes_target, require_kubernetes
from provisioning_cli.options import (
    DEFAULT_HOME,
    CatalogOpt,
    HomeOpt,
    JsonOpt,
    KubernetesOnlyOpt,
    PostgresOpt,
    TenantArg,
)
from provisioning_cli.output import fail, print_json, print_table, resolve_tenant


def plan(
    tenant: TenantArg,
    target: KubernetesOnlyOpt = "kubernetes",
    postgres: PostgresOpt = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Run the tenant's Pulumi program under the mock runtime (no pulumi CLI, no cluster) and judge it with the
    policy pack; exit 1 when a policy is violated. Secret values are shown masked, never in clear."""
    require_kubernetes(target, "plan")
    kube = kubernetes_target(home, catalog)
    spec = resolve_tenant(kube.catalog, tenant)
    with boundary():
        result = kube.plan(spec, postgres_url=postgres)
    if json_:
        print_json(result)
    else:
        _print_people(spec.slug, result)
    if result["violations"]:
        fail(f"{len(result['violations'])} policy violation(s) in {spec.slug}'s stack")


def _print_people(slug: str, result: dict) -> None:
    resources = [r for r in result["resources"] if r["type"].startswith(("kubernetes:", "pulumi-python:"))]
    print_table(["type", "name", "namespace"],
                ([r["type"].removeprefix("kubernetes:").removeprefix("pulumi-python:dynamic/"), r["name"],
                  (r["props"].get("metadata") or {}).get("namespace", "")] for r in resources),
                title=f"{slug}: {len(resources)} resources ({len(result['resources'])} with components)")
    if result["violations"]:
        print_table(["policy", "resource", "message"],
                    ([v["policy"], v["name"] or "(stack)", v["message"]] for v in result["violations"]),
                    title="policy violations")
    else:
        typer.echo("policy pack: no violations")
