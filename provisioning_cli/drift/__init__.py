"""Drift: how each tenant's live state differs from what is declared (catalog, `fsp up`'s ensure-functions).

`check_fleet` checks tenants one by one and returns a `DriftReport`; each `Difference` names its resource and
field, the declared and the live value, and whether `fsp up` repairs it (else what an operator must do). Nothing
is changed: drift only reads. `fsp drift` prints the report; `fsp serve --drift-interval` runs it on a schedule
and the ministry's /metrics counts what the last fleet-wide run found (`record_report`).
"""
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.ensure.files import write_atomic
from provisioning_cli.lifecycle import lifecycle_of, skipped_by_fleet
from provisioning_cli.targets.local import DRIFT_FILE, LocalTarget
from provisioning_cli.targets.local_state import read_json
from tenants import TenantSpec

# every resource drift checks, in `fsp up`'s order; the metrics count each one per tenant (0 when clean)
RESOURCES = ("files", "database", "migrations", "keys", "realm", "settings", "registration", "monitoring",
             "kubernetes")


@dataclass(frozen=True)
class Difference:
    """One way a resource differs from its declaration; `action` says what repairs it."""

    resource: str
    field: str
    declared: Any
    live: Any
    repaired_by_up: bool
    action: str


@dataclass(frozen=True)
class Unchecked:
    """A resource drift could not look at, and why (not a failure: e.g. no Pulumi engine on this machine)."""

    resource: str
    reason: str


@dataclass
class TenantDrift:
    tenant: str
    lifecycle: str | None
    differences: list[Difference] = field(default_factory=list)
    unchecked: list[Unchecked] = field(default_factory=list)
    # resources whose check failed (an unreachable server, an unreadable file): their drift is unknown
    errors: list[Unchecked] = field(default_factory=list)
    # resources the tenant does not have (a realm of a development tenant, the ministry's registration)
    not_applicable: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Differences per resource, every checked resource included (0 when clean)."""
        skipped = {u.resource for u in (*self.unchecked, *self.errors)} | set(self.not_applicable)
        counts = {resource: 0 for resource in RESOURCES if resource not in skipped}
        for difference in self.differences:
            counts[difference.resource] = counts.get(difference.resource, 0) + 1
        return counts


@dataclass
class DriftReport:
    checked_at: str
    tenants: list[TenantDrift]
    # tenants a fleet-wide run left alone: (slug, why)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    @property
    def drift_items(self) -> int:
        return sum(len(t.differences) for t in self.tenants)

    @property
    def failed(self) -> bool:
        return any(t.errors for t in self.tenants)

    def exit_code(self) -> int:
        """0: no drift; 1: drift found; 2: a check could not be made."""
        return 2 if self.failed else 1 if self.drift_items else 0

    def as_dict(self) -> dict[str, Any]:
        return {"checked_at": self.checked_at, "drift_items": self.drift_items,
                "tenants": [{"tenant": t.tenant, "lifecycle": t.lifecycle, "drift": [asdict(d) for d in t.differences],
                             "unchecked": [asdict(u) for u in t.unchecked], "errors": [asdict(e) for e in t.errors],
                              "not_applicable": t.not_applicable}
                            for t in self.tenants],
                "skipped": [{"tenant": slug, "reason": reason} for slug, reason in self.skipped]}


def fleet_tenants(local: LocalTarget) -> tuple[list[TenantSpec], list[tuple[str, str]]]:
    """The tenants a fleet-wide run checks (provisioned, neither suspended nor offboarded) and those it skips."""
    checked, skipped = [], []
    for spec in local.catalog.tenants:
        state = read_json(local.home.tenant(spec.slug).state)
        if skipped_by_fleet(state):
            skipped.append((spec.slug, lifecycle_of(state).state.value))
        elif local.is_provisioned(spec):
            checked.append(spec)
        elif state is not None:
            skipped.append((spec.slug, "not provisioned"))
    return checked, skipped


def check_fleet(local: LocalTarget, specs: Sequence[TenantSpec], *, skipped: Sequence[tuple[str, str]] = (),
                on_tenant: Callable[[TenantSpec], None] | None = None) -> DriftReport:
    """Check each tenant; a failing check is recorded in its tenant's errors, never raised."""
    from provisioning_cli.drift.checks import check_tenant  # the checks import the registry's key ledger

    tenants = []
    for spec in specs:
        tenants.append(check_tenant(local, spec))
        if on_tenant is not None:
            on_tenant(spec)
    return DriftReport(checked_at=datetime.now(UTC).isoformat(timespec="seconds"), tenants=tenants,
                       skipped=list(skipped))


def report_file(local: LocalTarget) -> Path:
    """Where the last fleet-wide run is recorded: beside the ministry's settings, which name it for /metrics."""
    return local.home.tenant(local.catalog.ministry.slug).root / DRIFT_FILE


def record_report(local: LocalTarget, report: DriftReport) -> Path:
    """Write what the ministry's /metrics exports: drift items per tenant and resource, and when."""
    path = report_file(local)
    data = {"checked_at": report.checked_at, "tenants": {t.tenant: t.counts() for t in report.tenants}}
    # Prometheus-facing counts only, no values: the ministry's registry reads it at scrape time
    write_atomic(path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode(), mode=0o600)
    return path
