"""`fsp tenants`: list, show and validate the tenant catalog."""

from dataclasses import asdict
from typing import Annotated, Any

import typer

from provisioning_cli.options import CatalogOpt, JsonOpt, PilotsOpt
from provisioning_cli.output import fail_catalog, open_catalog, print_json, print_table, resolve_tenant
from tenants import CatalogError, TenantSpec, load_catalog

app = typer.Typer(no_args_is_help=True, help="Inspect and validate the tenant catalog.")

TenantArg = Annotated[str, typer.Argument(help="Tenant slug (beijing) or GB/T 2260 code (110000).")]


def _summary(tenant: TenantSpec) -> dict[str, Any]:
    """The identity fields `list` prints."""
    return {
        "code": tenant.code,
        "slug": tenant.slug,
        "name": tenant.name_zh,
        "name_en": tenant.name_en,
        "kind": tenant.kind,
        "pilot": tenant.pilot,
    }


def _flatten(data: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """Nested settings as (dotted.field, value) rows."""
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            rows += _flatten(value, f"{prefix}{key}.")
        else:
            rows.append((f"{prefix}{key}", value))
    return rows


@app.command("list")
def list_tenants(
    pilots: PilotsOpt = False,
    json_: JsonOpt = False,
    catalog: CatalogOpt = None,
) -> None:
    """List tenants: the ministry first, then provinces by code."""
    cat = open_catalog(catalog)
    rows = [_summary(t) for t in (cat.pilots if pilots else cat.tenants)]
    if json_:
        print_json(rows)
        return
    columns = ["code", "slug", "name", "name_en", "kind", "pilot"]
    print_table(columns, ([r[c] for c in columns] for r in rows))


@app.command("show")
def show_tenant(tenant: TenantArg, json_: JsonOpt = False, catalog: CatalogOpt = None) -> None:
    """Show one tenant's full spec, defaults included."""
    spec = resolve_tenant(open_catalog(catalog), tenant)
    data = spec.model_dump(mode="json")
    if json_:
        print_json(data)
        return
    print_table(["field", "value"], _flatten(data), title=f"{spec.name_zh} ({spec.slug})")


@app.command("validate")
def validate_catalog(json_: JsonOpt = False, catalog: CatalogOpt = None) -> None:
    """Check every tenant file; list each problem as `<file>: <field>: <reason>`."""
    try:
        cat = load_catalog(catalog)
    except CatalogError as err:
        if json_:
            print_json({"ok": False, "problems": [asdict(p) for p in err.problems]})
        fail_catalog(err)
    counts = {
        "tenants": len(cat.tenants),
        "ministry": 1,
        "provinces": len(cat.provinces),
        "pilots": len(cat.pilots),
    }
    if json_:
        print_json({"ok": True, **counts})
        return
    typer.echo(
        f"catalog OK: {counts['tenants']} tenants ({counts['ministry']} ministry, "
        f"{counts['provinces']} provinces, {counts['pilots']} pilots)"
    )
