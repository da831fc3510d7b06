"""Output and error helpers shared by every command group: JSON for machines, tables for people."""

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from tenants import Catalog, CatalogError, TenantSpec, UnknownTenantError, load_catalog


def print_json(data: Any) -> None:
    """Print `data` as indented JSON on stdout, Chinese left readable."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def print_table(columns: Sequence[str], rows: Iterable[Sequence[object]], *, title: str | None = None) -> None:
    """Print rows as a table on stdout for people."""
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    # markup off: catalog values are data, and "[...]" in them must print as is
    Console(markup=False, highlight=False).print(table)


def fail(message: str) -> NoReturn:
    """Print `error: <message>` on stderr and exit 1, never with a traceback."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1) from None


def open_catalog(path: Path | None) -> Catalog:
    """The catalog at `path` (default: packaged); on problems, list them on stderr and exit 1."""
    try:
        return load_catalog(path)
    except CatalogError as err:
        fail_catalog(err)


def fail_catalog(err: CatalogError) -> NoReturn:
    """List each catalog problem as `<file>: <field>: <reason>` on stderr, then fail."""
    for problem in err.problems:
        typer.echo(str(problem), err=True)
    fail(f"invalid tenant catalog {err.source}: {len(err.problems)} problem(s)")


def resolve_tenant(catalog: Catalog, ref: str) -> TenantSpec:
    """The tenant named by slug or code; exit 1 with near matches otherwise."""
    try:
        return catalog.resolve(ref)
    except UnknownTenantError as err:
        fail(str(err))
