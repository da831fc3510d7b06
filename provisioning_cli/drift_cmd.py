"""`fsp drift`: how each tenant's live state differs from its declaration, and what repairs each difference.

Exit 0: no drift; 1: drift found; 2: an error (a tenant not provisioned, a check that could not be made).
"""
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from provisioning_cli.common import boundary, open_target, tenant_progress
from provisioning_cli.drift import DriftReport, check_fleet, fleet_tenants, record_report
from provisioning_cli.options import DEFAULT_HOME, AllOpt, CatalogOpt, HomeOpt, JsonOpt, TenantsArg
from provisioning_cli.output import print_json, print_table, resolve_tenant

WIDEST = 60  # a value wider than this is cut for people (--json gives it whole)


def drift(
    tenants: TenantsArg = None,
    all_: AllOpt = False,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Compare tenants' live state with what is declared (catalog settings, database roles and grants, schema,
    key fingerprints, file modes, monitoring, exchange registration, Keycloak realm, Kubernetes stack) and name
    each difference. `--all`: every provisioned tenant but suspended and offboarded ones; it is recorded for the
    ministry's /metrics. Exit 0: no drift, 1: drift found, 2: error."""
    with _errors_exit_2(), boundary():
        local = open_target(home, catalog)
        if not tenants and not all_:
            raise typer.BadParameter("name the tenants to check (slug or code), or pass --all")
        named = [resolve_tenant(local.catalog, ref) for ref in tenants or ()]
        for spec in named:
            if not local.is_provisioned(spec):
                typer.echo(f"error: {spec.slug} is not provisioned here: nothing to compare", err=True)
                raise typer.Exit(code=2)
        fleet, skipped = fleet_tenants(local) if all_ else ([], [])
        specs = list(dict.fromkeys([*named, *fleet]))
        skipped = [(slug, why) for slug, why in skipped if slug not in {s.slug for s in named}]
        with tenant_progress(len(specs), "checking drift") as advance:
            report = check_fleet(local, specs, skipped=skipped, on_tenant=advance)
        if all_ and local.is_provisioned(local.catalog.ministry):
            record_report(local, report)
    if json_:
        print_json(report.as_dict())
    else:
        _print(report)
    raise typer.Exit(code=report.exit_code())


@contextmanager
def _errors_exit_2() -> Iterator[None]:
    """The shared error helpers exit 1; here 1 means drift, so an error exits 2."""
    try:
        yield
    except typer.BadParameter as err:
        typer.echo(f"error: {err.message}", err=True)
        raise typer.Exit(code=2) from None
    except typer.Exit as stop:
        if stop.exit_code == 1:
            raise typer.Exit(code=2) from None
        raise


def _print(report: DriftReport) -> None:
    rows = [(t.tenant, d.resource, d.field, _cut(d.declared), _cut(d.live), "fsp up" if d.repaired_by_up else "operator")
            for t in report.tenants for d in t.differences]
    if rows:
        print_table(("tenant", "resource", "field", "declared", "live", "repaired by"), rows,
                    title=f"drift at {report.checked_at}")
    for tenant in report.tenants:
        for d in tenant.differences:
            if not d.repaired_by_up:
                typer.echo(f"{tenant.tenant} {d.resource} {d.field}: {_cut(d.live, 200)}\n  to do: {d.action}")
    unchecked: dict[tuple[str, str], list[str]] = {}
    for tenant in report.tenants:
        for u in tenant.unchecked:
            unchecked.setdefault((u.resource, u.reason), []).append(tenant.tenant)
    for (resource, reason), slugs in unchecked.items():
        typer.echo(f"{resource}: {reason} ({_few(slugs)})", err=True)
    for slug, why in report.skipped:
        typer.echo(f"skipped {slug}: {why}", err=True)
    for tenant in report.tenants:
        for e in tenant.errors:
            typer.echo(f"error: {tenant.tenant} {e.resource}: {e.reason}", err=True)
    repairable = sum(d.repaired_by_up for t in report.tenants for d in t.differences)
    drifted = sum(bool(t.differences) for t in report.tenants)
    if report.drift_items:
        typer.echo(f"{report.drift_items} difference(s) in {drifted} of {len(report.tenants)} tenant(s): "
                   f"{repairable} repaired by `fsp up`, {report.drift_items - repairable} need an operator")
    else:
        typer.echo(f"no drift in {len(report.tenants)} tenant(s)")


def _cut(value: object, widest: int = WIDEST) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= widest else text[:widest - 1] + "…"


def _few(slugs: list[str]) -> str:
    return ", ".join(slugs) if len(slugs) <= 4 else f"{len(slugs)} tenants"
