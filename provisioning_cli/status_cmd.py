"""`fsp status`: what is provisioned on the local target, at which migration, served where."""
from typing import Annotated

import typer

from provisioning_cli.common import DEFAULT_HOME, HomeOpt, boundary, open_target
from provisioning_cli.output import CatalogOpt, JsonOpt, print_json, print_table, resolve_tenant

COLUMNS = ("tenant", "code", "provisioned", "served", "migration", "head", "backend", "endpoint")


def status(
    tenant: Annotated[str | None, typer.Argument(help="One tenant (slug or code); default: all.",
                                                 show_default=False)] = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Every tenant (or one): provisioned, served, migration read from its database, endpoint."""
    local = open_target(home, catalog)
    specs = [resolve_tenant(local.catalog, tenant)] if tenant else list(local.catalog.tenants)
    with boundary():
        rows = local.status(specs)
    if json_:
        print_json(rows)
        return
    print_table(COLUMNS, ([_cell(row.get(c)) for c in COLUMNS] for row in rows))
    for row in rows:
        if "problem" in row:
            typer.echo(f"{row['tenant']}: {row['problem']}", err=True)


def _cell(value: object) -> object:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value
