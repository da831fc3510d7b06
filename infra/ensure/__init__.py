"""Idempotent ensure-functions shared by every target: each converges one resource and says what it did.

An ensure-function returns `created` (it did not exist), `updated` (it existed and was changed to match) or
`unchanged` (it already matched, nothing was written). The local target calls them directly; the Kubernetes
target's Pulumi dynamic providers wrap the same functions.
"""
from collections.abc import Iterable
from typing import Literal

Outcome = Literal["created", "updated", "unchanged"]
Removal = Literal["deleted", "absent"]


class ProvisioningError(Exception):
    """A resource cannot be converged; the message says which and why, without secrets."""


def combine(outcomes: Iterable[Outcome]) -> Outcome:
    """One outcome for a resource made of parts: all created, all unchanged, or else updated."""
    seen = set(outcomes)
    if seen <= {"unchanged"}:
        return "unchanged"
    if seen == {"created"}:
        return "created"
    return "updated"


__all__ = ["Outcome", "ProvisioningError", "Removal", "combine"]
