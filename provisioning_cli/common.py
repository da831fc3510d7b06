"""Helpers the commands share: opening a target, choosing tenants, the error boundary, progress and results."""
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from infra.ensure import ProvisioningError
from provisioning_cli.output import fail, open_catalog, print_json, print_table, resolve_tenant
from provisioning_cli.targets import TARGETS, TargetError
from provisioning_cli.targets.local import LocalTarget, Result
from registry.security.keys import KeyMaterialError
from tenants import Catalog, TenantSpec

if TYPE_CHECKING:
    from provisioning_cli.targets.kubernetes import KubernetesTarget
    from provisioning_cli.targets.local_fleet import Convergence

def open_target(home: Path, catalog: Path | None) -> LocalTarget:
    """The local target over the catalog at `catalog` (default: packaged)."""
    return LocalTarget(home, open_catalog(catalog))


def kubernetes_target(home: Path, catalog: Path | None, backend_url: str | None = None) -> "KubernetesTarget":
    """The Kubernetes target over the catalog at `catalog` (default: packaged)."""
    # imported here: Pulumi and its Kubernetes SDK would slow every other fsp command's start
    from provisioning_cli.targets.kubernetes import KubernetesTarget

    return KubernetesTarget(home, open_catalog(catalog), backend_url=backend_url)


def check_target(target: str) -> None:
    if target not in TARGETS:
        fail(f"unknown target {target!r}; choose one of: {', '.join(TARGETS)}")


def require_kubernetes(target: str, command: str) -> None:
    if target != "kubernetes":
        fail(f"`fsp {command}` is for --target kubernetes; the local target reports its changes with `fsp up`")


def named_tenants(catalog: Catalog, refs: Sequence[str] | None, *, pilots: bool = False, all_: bool = False,
                  verb: str = "provision") -> list[TenantSpec]:
    """Those named, then the pilots, then every tenant, each once; choosing none is an error."""
    specs = [resolve_tenant(catalog, ref) for ref in refs or ()]
    specs += catalog.pilots if pilots else ()
    specs += catalog.tenants if all_ else ()
    if not specs:
        fail(f"name the tenants to {verb} (slug or code), or pass --pilots or --all")
    return list(dict.fromkeys(specs))


def fleet_selection(catalog: Catalog, refs: Sequence[str] | None, *, pilots: bool, all_: bool,
                    verb: str) -> tuple[list[TenantSpec], list[TenantSpec]]:
    """(the tenants named, those chosen fleet-wide by --pilots/--all and not named): a fleet-wide choice leaves
    suspended and offboarded tenants alone, a named one never does."""
    named = list(dict.fromkeys(resolve_tenant(catalog, ref) for ref in refs or ()))
    fleet = [*(catalog.pilots if pilots else ()), *(catalog.tenants if all_ else ())]
    if not named and not fleet:
        fail(f"name the tenants to {verb} (slug or code), or pass --pilots or --all")
    return named, [spec for spec in dict.fromkeys(fleet) if spec not in named]


def provinces_taking_part(local: LocalTarget, refs: Sequence[str] | None, all_: bool, *, verb: str,
                          refusal: Callable[[TenantSpec], str | None], none_left: str) -> list[TenantSpec]:
    """The provinces named, or with --all every provisioned one that takes part; `refusal` says why one cannot."""
    if all_ == bool(refs):
        fail(f"name the provinces to {verb}, or pass --all (not both)")
    if all_:
        specs = [s for s in local.catalog.provinces if local.is_provisioned(s) and refusal(s) is None]
        if not specs:
            fail(none_left)
        return specs
    specs = [resolve_tenant(local.catalog, ref) for ref in refs or ()]
    for spec in specs:
        reason = refusal(spec) or (None if local.is_provisioned(spec)
                                   else f"{spec.slug} is not provisioned here: run `fsp up {spec.slug}` first")
        if reason:
            fail(reason)
    return list(dict.fromkeys(specs))


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


def result_rows(results: Sequence[Result]) -> list[dict[str, str]]:
    return [{"tenant": t, "resource": r, "outcome": o} for t, r, o in results]


def print_results(results: Sequence[Result], json_: bool) -> None:
    """JSON `[{"tenant", "resource", "outcome"}]`, or for people one line per tenant saying what changed."""
    if json_:
        print_json(result_rows(results))
        return
    by_tenant = _by_tenant(results)
    print_table(["tenant", "outcome"], ([tenant, _summary(groups)] for tenant, groups in by_tenant.items()))
    typer.echo(_counts(results))


def print_convergence(report: "Convergence", json_: bool) -> None:
    """`fsp up`'s report: JSON `{"tenants": [summary], "resources": [rows]}`, or for people one line per tenant
    (lifecycle, what changed or the step that failed and why); each failure again on stderr, then exit 1."""
    if json_:
        print_json({"tenants": [t.as_dict() for t in report.tenants], "resources": result_rows(report.results)})
    else:
        by_tenant = _by_tenant(report.results)
        why = any(t.outcome != "converged" for t in report.tenants)  # the column only when there is a why
        print_table(["tenant", "lifecycle", "outcome", *(["failed step: reason"] if why else [])], (
            [t.tenant, t.lifecycle or "-", _summary(by_tenant.get(t.tenant, {})) if t.outcome == "converged"
             else t.outcome, *([f"{t.step}: {t.reason}" if t.outcome == "failed" else t.reason or ""] if why else [])]
            for t in report.tenants))
        typer.echo(", ".join(filter(None, [_counts(report.results), *(
            f"{n} tenant(s) {outcome}" for outcome in ("failed", "skipped")
            if (n := sum(t.outcome == outcome for t in report.tenants)))])))
    for failed in report.failed:
        typer.echo(f"error: {failed.tenant}: {failed.step}: {failed.reason}", err=True)
    if report.failed:
        raise typer.Exit(code=1)


def _by_tenant(results: Sequence[Result]) -> dict[str, dict[str, list[str]]]:
    by_tenant: dict[str, dict[str, list[str]]] = {}
    for tenant, resource, outcome in results:
        by_tenant.setdefault(tenant, {}).setdefault(outcome, []).append(resource)
    return by_tenant


def _counts(results: Sequence[Result]) -> str:
    counts = {outcome: sum(o == outcome for _, _, o in results) for outcome in sorted({o for _, _, o in results})}
    return ", ".join(f"{n} {outcome}" for outcome, n in counts.items())


def _summary(groups: dict[str, list[str]]) -> str:
    """`created: database, keys · 5 unchanged`: what changed named, what did not counted."""
    parts = [f"{outcome}: {', '.join(resources)}" for outcome, resources in groups.items() if outcome != "unchanged"]
    if "unchanged" in groups:
        parts.append(f"{len(groups['unchanged'])} unchanged")
    return " · ".join(parts)
