"""Options and helpers the local-target commands share: $FSP_HOME, the PostgreSQL DSN, the error boundary."""
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from infra.ensure import ProvisioningError
from provisioning_cli.output import fail, open_catalog, print_json, print_table
from provisioning_cli.targets import TargetError
from provisioning_cli.targets.local import LocalTarget, Result
from registry.security.keys import KeyMaterialError

HomeOpt = Annotated[
    Path,
    typer.Option("--home", envvar="FSP_HOME", metavar="DIR", help="State directory of the local target."),
]
PostgresOpt = Annotated[
    str | None,
    typer.Option("--postgres", envvar="FSP_POSTGRES_URL", metavar="DSN", show_envvar=True,
                 help="Admin DSN of a PostgreSQL server (CREATEDB CREATEROLE): a database and role per tenant "
                      "instead of SQLite files."),
]
TenantArg = Annotated[str, typer.Argument(help="Tenant slug (beijing) or GB/T 2260 code (110000).")]
DEFAULT_HOME = Path(".fsp")


def open_target(home: Path, catalog: Path | None) -> LocalTarget:
    """The local target over the catalog at `catalog` (default: packaged)."""
    return LocalTarget(home, open_catalog(catalog))


@contextmanager
def boundary() -> Iterator[None]:
    """Domain errors become `error: ...` on stderr and exit 1, never a traceback."""
    try:
        yield
    except (TargetError, ProvisioningError, KeyMaterialError) as err:
        fail(str(err))
    except OSError as err:
        fail(f"{err.strerror or err}: {err.filename}" if err.filename else str(err))


@contextmanager
def tenant_progress(total: int, what: str) -> Iterator[Callable[[object], None]]:
    """A progress bar on stderr for several tenants (people at a terminal only); yields `advance(_)`."""
    console = Console(stderr=True)
    with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True, disable=total < 2 or not console.is_terminal) as progress:
        task = progress.add_task(what, total=total)
        yield lambda _done: progress.advance(task)


def exit_on_problems(rows: Sequence[dict], name: Callable[[dict], str]) -> None:
    """`error: <name>: <problem>` on stderr for every row with a problem, then exit 1 if there was one."""
    failed = [row for row in rows if row["problem"]]
    for row in failed:
        typer.echo(f"error: {name(row)}: {row['problem']}", err=True)
    if failed:
        raise typer.Exit(code=1)


def print_results(results: Sequence[Result], json_: bool) -> None:
    """JSON `[{"tenant", "resource", "outcome"}]`, or for people one line per tenant saying what changed."""
    if json_:
        print_json([{"tenant": t, "resource": r, "outcome": o} for t, r, o in results])
        return
    by_tenant: dict[str, dict[str, list[str]]] = {}
    for tenant, resource, outcome in results:
        by_tenant.setdefault(tenant, {}).setdefault(outcome, []).append(resource)
    print_table(["tenant", "outcome"], ([tenant, _summary(groups)] for tenant, groups in by_tenant.items()))
    counts = {outcome: sum(len(g.get(outcome, ())) for g in by_tenant.values())
              for outcome in sorted({o for _, _, o in results})}
    typer.echo(", ".join(f"{n} {outcome}" for outcome, n in counts.items()))


def _summary(groups: dict[str, list[str]]) -> str:
    """`created: database, keys · 5 unchanged`: what changed named, what did not counted."""
    parts = [f"{outcome}: {', '.join(resources)}" for outcome, resources in groups.items() if outcome != "unchanged"]
    if "unchanged" in groups:
        parts.append(f"{len(groups['unchanged'])} unchanged")
    return " · ".join(parts)
