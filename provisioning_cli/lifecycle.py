"""A tenant's lifecycle state: one word every command and view shows, kept in its state.json.

    provisioning → active ⇄ suspended → offboarding → offboarded
         ↓
       failed (with the reason; the next good `fsp up` makes it active again)

Fleet commands (`fsp up --all`, `fsp upgrade`, `fsp drift`) skip suspended and offboarded tenants unless they
are named. A state.json written before lifecycle states existed reads as active once converged.
"""
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from provisioning_cli.targets.local_state import HISTORY_KEPT, now


class Lifecycle(StrEnum):
    provisioning = "provisioning"
    active = "active"
    suspended = "suspended"
    offboarding = "offboarding"
    offboarded = "offboarded"
    failed = "failed"


# what a fleet-wide command leaves alone unless the tenant is named
SKIPPED_BY_FLEET = frozenset({Lifecycle.suspended, Lifecycle.offboarded})

# the Chinese word shown to staff and on the fleet view
LIFECYCLE_ZH = {
    Lifecycle.provisioning: "开通中",
    Lifecycle.active: "运行中",
    Lifecycle.suspended: "已暂停",
    Lifecycle.offboarding: "退出中",
    Lifecycle.offboarded: "已退出",
    Lifecycle.failed: "失败",
}


@dataclass(frozen=True)
class LifecycleState:
    state: Lifecycle
    reason: str | None = None
    since: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"state": self.state.value, "state_zh": LIFECYCLE_ZH[self.state], "reason": self.reason,
                "since": self.since}


def lifecycle_of(state: dict[str, Any] | None) -> LifecycleState | None:
    """The lifecycle recorded in a tenant's state.json; None when the tenant was never provisioned here."""
    if not state:
        return None
    recorded = state.get("lifecycle")
    if recorded:
        return LifecycleState(Lifecycle(recorded["state"]), recorded.get("reason"), recorded.get("since"))
    if "converged_at" in state:  # written before lifecycle states existed
        return LifecycleState(Lifecycle.active, None, state.get("converged_at"))
    return LifecycleState(Lifecycle.provisioning, None, state.get("created_at"))


def set_lifecycle(state: dict[str, Any], lifecycle: Lifecycle, reason: str | None = None) -> bool:
    """Record a lifecycle state in a state.json dict (the caller writes it); True when it changed.

    A change goes into the bounded history like a resource's, so `fsp status` can tell when and why.
    """
    current = lifecycle_of(state)
    if current is not None and current.state == lifecycle and current.reason == reason and "lifecycle" in state:
        return False
    at = now()
    state["lifecycle"] = {"state": lifecycle.value, "reason": reason, "since": at}
    history = state.setdefault("history", [])
    history.append({"at": at, "resource": "lifecycle", "outcome": lifecycle.value, **({"reason": reason} if reason else {})})
    del history[:-HISTORY_KEPT]
    return True


def skipped_by_fleet(state: dict[str, Any] | None) -> bool:
    """A fleet-wide command leaves this tenant alone unless it is named."""
    current = lifecycle_of(state)
    return current is not None and current.state in SKIPPED_BY_FLEET
