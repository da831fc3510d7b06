"""Converging many tenants on the local target: each on its own, a failure reported rather than raised.

`fsp up --all` goes on past a tenant it cannot converge and says which one failed, at which step and why. With
`--parallel N` the ministry is converged first, then the provinces N at a time, each in a worker process of its
own: Alembic keeps its migration context in module globals, so two threads could not migrate at once. The
command holds $FSP_HOME's lock throughout; a worker touches only its tenant's files, database and role (and the
files named after it in the ministry's peers and the scrape targets), so workers never write the same thing.
"""
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from provisioning_cli.lifecycle import lifecycle_of, skipped_by_fleet
from provisioning_cli.targets.local_state import read_json
from tenants import TenantSpec

if TYPE_CHECKING:
    from provisioning_cli.targets.local import LocalTarget, Result


@dataclass(frozen=True)
class TenantOutcome:
    """One tenant's line of the summary: converged, failed (at `step`, because of `reason`) or skipped."""

    tenant: str
    outcome: str
    lifecycle: str | None
    step: str | None = None
    reason: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Convergence:
    """What `converge` did: every resource's outcome, and one summary line per tenant of the plan."""

    results: list["Result"] = field(default_factory=list)
    tenants: list[TenantOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[TenantOutcome]:
        return [t for t in self.tenants if t.outcome == "failed"]


def converge_fleet(target: "LocalTarget", plan: list[TenantSpec], *, named: set[str], postgres_url: str | None,
                   parallel: int, on_tenant: Callable[[TenantSpec], None] | None) -> Convergence:
    """`target.up` for each tenant of `plan` (the caller holds the lock); the report keeps the plan's order."""
    done: dict[str, tuple[list, TenantOutcome]] = {}
    work: list[tuple[TenantSpec, str | None]] = []
    for spec in plan:
        state = _state(target, spec)
        if spec.slug not in named and skipped_by_fleet(state):
            done[spec.slug] = ([], TenantOutcome(spec.slug, "skipped", lifecycle_of(state).state.value,
                                                 reason="suspended or offboarded: name it to converge it"))
            _tell(on_tenant, spec)
            continue
        # a ministry added only because a province needs it keeps the backend it already has
        implicit = spec.slug not in named and state is not None and "converged_at" in state
        work.append((spec, None if implicit else postgres_url))
    ministry = [(s, url) for s, url in work if s.kind == "ministry"]
    provinces = [(s, url) for s, url in work if s.kind != "ministry"]
    for spec, url in ministry + (provinces if parallel <= 1 else []):
        done[spec.slug] = converge_one(target, spec, url)
        _tell(on_tenant, spec)
    if parallel > 1 and provinces:
        _in_workers(target, provinces, parallel, done, on_tenant)
    report = Convergence()
    for spec in plan:
        results, outcome = done[spec.slug]
        report.results += results
        report.tenants.append(outcome)
    return report


def converge_one(target: "LocalTarget", spec: TenantSpec, postgres_url: str | None) -> tuple[list, TenantOutcome]:
    """One tenant's `up`, its failure caught: (the resources' outcomes, the summary line)."""
    from provisioning_cli.targets.local import ConvergeFailed

    started = time.monotonic()
    results: list = []
    step = reason = None
    try:
        results = target.up(spec, postgres_url=postgres_url)
    except ConvergeFailed as err:
        step, reason = err.step, err.reason
    except Exception as err:  # noqa: BLE001 — one tenant's failure of any kind must not stop the others
        step, reason = "state", f"{type(err).__name__}: {err}"
    lifecycle = _lifecycle(target, spec)
    return results, TenantOutcome(spec.slug, "failed" if reason else "converged", lifecycle, step, reason,
                                  round(time.monotonic() - started, 2))


def _in_workers(target: "LocalTarget", work: list[tuple[TenantSpec, str | None]], parallel: int,
                done: dict[str, tuple[list, TenantOutcome]], on_tenant: Callable[[TenantSpec], None] | None) -> None:
    # spawned, not forked: the command may run threads (a test's server) that a fork would copy half-way
    with ProcessPoolExecutor(max_workers=parallel, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(converge_one, target, spec, url): spec for spec, url in work}
        for future in as_completed(futures):
            spec = futures[future]
            try:
                done[spec.slug] = future.result()
            except BrokenProcessPool as err:
                done[spec.slug] = ([], TenantOutcome(spec.slug, "failed", _lifecycle(target, spec), "state",
                                                     f"its worker process died: {err}"))
            _tell(on_tenant, spec)


def _state(target: "LocalTarget", spec: TenantSpec) -> dict[str, Any] | None:
    """The tenant's state.json; None when absent or unreadable (its `up` then says what is wrong)."""
    try:
        return read_json(target.home.tenant(spec.slug).state)
    except ValueError:
        return None


def _lifecycle(target: "LocalTarget", spec: TenantSpec) -> str | None:
    current = lifecycle_of(_state(target, spec))
    return current.state.value if current else None


def _tell(on_tenant: Callable[[TenantSpec], None] | None, spec: TenantSpec) -> None:
    if on_tenant is not None:
        on_tenant(spec)
