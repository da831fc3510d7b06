"""`fsp status`: what is provisioned on the local target, at which migration, served where."""
from typing import Annotated

import typer

from provisioning_cli.common import boundary, open_target
from provisioning_cli.options import DEFAULT_HOME, CatalogOpt, HomeOpt, JsonOpt
from provisioning_cli.output import print_json, print_table, resolve_tenant

COLUMNS = ("tenant", "code", "lifecycle", "served", "migration", "backend", "api")


def status(
    tenant: Annotated[str | None, typer.Argument(help="One tenant (slug or code); default: all.",
                                                 show_default=False)] = None,
    json_: JsonOpt = False,
    home: HomeOpt = DEFAULT_HOME,
    catalog: CatalogOpt = None,
) -> None:
    """Every tenant (or one): provisioned, its lifecycle, whether it answers at the serve address now (its
    /readyz: ready, not ready, not running, not mounted, or taken down), migration read from its database, endpoint."""
    local = open_target(home, catalog)
    specs = [resolve_tenant(local.catalog, tenant)] if tenant else list(local.catalog.tenants)
    with boundary():
        rows = local.status(specs)
    if json_:
        print_json(rows)
        return
    base, head = local.base_url(), rows[0]["head"]
    people = ([_cell(c) for c in _people(row, base)] for row in rows)
    print_table(COLUMNS, people, title=f"served at {base} · migration head {head}")
    for row in rows:
        if "problem" in row:
            typer.echo(f"{row['tenant']}: {row['problem']}", err=True)


def _people(row: dict, base: str) -> tuple:
    """A row narrow enough for a terminal: the API path under the base URL shown in the title."""
    lifecycle = (row.get("lifecycle") or {}).get("state")
    api = row["endpoint"].removeprefix(base) if row["endpoint"] else None
    return row["tenant"], row["code"], lifecycle, row["serve"], row["migration"], row["backend"], api


def _cell(value: object) -> object:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value
