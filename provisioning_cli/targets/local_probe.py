"""Whether `fsp serve` serves a tenant now, read from the server itself: its /readyz through the recorded serve
address, with a short timeout. What `fsp status` reports as `served` (and `serve`, the reason)."""
from collections.abc import Iterable

import httpx

PROBE_TIMEOUT_SECONDS = 2.0

# what `serve` says of a provisioned tenant
READY = "ready"  # it answers, and is ready
NOT_READY = "not ready"  # it answers, but its /readyz says why it is not ready (database, migration)
NOT_RUNNING = "not running"  # nothing listens at the serve address
NOT_MOUNTED = "not mounted"  # a server answers there, but not for this tenant
TAKEN_DOWN = "taken down"  # `fsp down`: not to be served


def probe(base: str, slugs: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """(serve, the server's reason or None) of each tenant: one GET of its /readyz each; when nothing listens,
    every tenant is `not running` after the first refused connection."""
    found: dict[str, tuple[str, str | None]] = {}
    with httpx.Client(timeout=PROBE_TIMEOUT_SECONDS) as client:
        for slug in slugs:
            if any(serve == NOT_RUNNING for serve, _ in found.values()):
                found[slug] = found[next(iter(found))]
                continue
            found[slug] = _one(client, f"{base.rstrip('/')}/{slug}/readyz")
    return found


def _one(client: httpx.Client, url: str) -> tuple[str, str | None]:
    try:
        answer = client.get(url)
    except httpx.TransportError as err:
        return NOT_RUNNING, f"nothing answers at {url}: {type(err).__name__}"
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.status_code == 200 and isinstance(body, dict) and body.get("status") == "ready":
        return READY, None
    if isinstance(body, dict) and "reason" in body and body.get("status") == "unavailable":
        return NOT_READY, str(body["reason"])  # the tenant's own readiness answer
    rules = [problem.get("rule") for problem in body.get("errors", [])] if isinstance(body, dict) else []
    return NOT_MOUNTED, f"the server at {url} answered {answer.status_code}" + (f" ({rules[0]})" if rules else "")
