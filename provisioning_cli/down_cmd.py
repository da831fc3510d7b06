"""`fsp down`: stop serving a tenant (data kept), or with --purge delete all it has."""
import sys
from typing import Annotated

import typer

from provisioning_cli.common import boundary, check_target, kubernetes_target, open_target, print_results
from provisioning_cli.options import (
    DEFAULT_HOME,
    BackendOpt,
    CatalogOpt,
    HomeOpt,
    JsonOpt,
    PostgresOpt,
    TargetOpt,
    TenantArg,
)
from provisioning_cli.output import fail, resolve_tenant


def _interactive() -> bool:
    return sys.stdin.isatty()


def down(
    tenant: TenantArg,
    purge: Annotated[bool, typer.Option("--purge", help="Also delete its database, keys, state and registration.")]
    = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Purge without asking.")] = False,
    target: TargetOpt = "local",
    postgres: PostgresOpt = None,
    backend_url: BackendOpt = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Take a tenant down: not served any more, its data kept; `--purge` deletes it for good."""
    check_target(target)
    local = open_target(home, catalog) if target == "local" else kubernetes_target(home, catalog, backend_url)
    spec = resolve_tenant(local.catalog, tenant)
    if purge and not yes:
        if not _interactive():
            fail(f"--purge deletes {spec.slug}'s database, keys and state for good: pass --yes to confirm")
        if not typer.confirm(f"Delete {spec.slug}'s database, keys and state for good?", err=True):
            fail("purge cancelled; nothing deleted")
    with boundary():
        if target == "kubernetes":
            results = local.down(spec, postgres_url=postgres, purge=purge)
        else:
            results = local.purge(spec, postgres_url=postgres) if purge else local.down(spec)
    print_results(results, json_)
