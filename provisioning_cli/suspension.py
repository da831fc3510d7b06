"""Suspending and resuming a tenant on the local target: its lifecycle in state.json and its status in its own
database (registry.tenant_status), which every process serving it reads within seconds."""
from typing import Any

from sqlmodel import Session

from provisioning_cli.lifecycle import LIFECYCLE_ZH, Lifecycle, lifecycle_of, set_lifecycle
from provisioning_cli.targets import TargetError
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_state import read_json, write_state
from registry import tenant_status
from registry.journal import Journal
from tenants import TenantSpec

ACTOR = "fsp lifecycle"
# the lifecycle states a tenant may be suspended or resumed from
SUSPENDABLE = frozenset({Lifecycle.active, Lifecycle.suspended})


def suspend(local: LocalTarget, spec: TenantSpec, *, reason: str | None) -> dict[str, Any]:
    """Suspend the tenant (idempotent): sign-ins and writes refused, exchange paused, data kept."""
    return _change(local, spec, Lifecycle.suspended, reason)


def resume(local: LocalTarget, spec: TenantSpec) -> dict[str, Any]:
    """Make a suspended tenant active again (idempotent); its exchange ships from where it stopped."""
    return _change(local, spec, Lifecycle.active, None)


def _change(local: LocalTarget, spec: TenantSpec, wanted: Lifecycle, reason: str | None) -> dict[str, Any]:
    with local.home.lock():
        paths = local.home.tenant(spec.slug)
        state = read_json(paths.state)
        current = lifecycle_of(state)
        verb = "suspend" if wanted == Lifecycle.suspended else "resume"
        if current is None or (current.state not in (Lifecycle.offboarding, Lifecycle.offboarded)
                               and not local.is_provisioned(spec)):
            raise TargetError(f"{spec.slug} is not provisioned here: there is nothing to {verb}")
        if current.state not in SUSPENDABLE:
            raise TargetError(f"{spec.slug} is {current.state.value} ({LIFECYCLE_ZH[current.state]}): only an active "
                              f"or suspended tenant can be {verb}d")
        settings = local.settings(spec)
        with local.engine(spec) as engine, Session(engine) as session:
            journal = Journal.of(engine, keys_dir=settings.keys_dir, checkpoint_file=settings.audit_checkpoint_path)
            changed_db = tenant_status.change(session, journal, actor=ACTOR, reason=reason,
                                              state=tenant_status.SUSPENDED if wanted == Lifecycle.suspended
                                              else tenant_status.ACTIVE)
        changed_state = set_lifecycle(state, wanted, reason)
        if changed_state:
            write_state(paths.state, state)
    after = lifecycle_of(state)
    return {"tenant": spec.slug, "outcome": "updated" if changed_db or changed_state else "unchanged",
            "lifecycle": after.as_dict()}
