"""`fsp fleet status`'s rows: every tenant of the catalog, whether or not any series of it exists.

What is expected of a tenant comes from here (its state.json: lifecycle, served, maintenance window; its
baseline.json); what it does comes from the ministry Prometheus. A tenant the state says is down or in maintenance
is shown so at once, whatever Prometheus still holds from its last scrapes.
"""
from typing import Any

from provisioning_cli.lifecycle import Lifecycle, lifecycle_of
from provisioning_cli.maintenance import current_window, label
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_state import read_json

HEALTHS = ("up", "down", "missing", "maintenance", "unknown")
OBSERVED = ("version", "request_rate", "error_ratio", "p95_seconds", "outbox_pending", "outbox_lag_seconds",
            "last_backup")


def fleet_rows(local: LocalTarget, observed: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """One row per catalog tenant, in catalog order; `observed` is the ministry Prometheus's rows by tenant (None:
    it could not be read, so the health of what is expected is `unknown`)."""
    seen = {row["tenant"]: row for row in observed or ()}
    rows = []
    for spec in local.catalog.tenants:
        paths = local.home.tenant(spec.slug)
        state = read_json(paths.state)
        lifecycle = lifecycle_of(state)
        window = current_window(state)
        expected = lifecycle is not None and lifecycle.state == Lifecycle.active
        row_seen = seen.get(spec.slug)
        rows.append({
            "tenant": spec.slug, "code": spec.code, "name": spec.name_zh,
            "lifecycle": lifecycle.as_dict() if lifecycle else None,
            "expected": expected,
            "health": _health(expected, state or {}, window, row_seen, observed is not None),
            "maintenance": {key: window[key] for key in ("reason", "since", "until")} | {"shown": label(window)}
            if window else None,
            "up": bool(row_seen and row_seen["up"]), "scraped": bool(row_seen and row_seen["scraped"]),
            **{key: (row_seen or {}).get(key) for key in OBSERVED},
            "alerts": (row_seen or {}).get("alerts", []),
            "baseline": _baseline(read_json(paths.baseline)),
        })
    return rows


def _health(expected: bool, state: dict, window: dict | None, seen: dict | None, readable: bool) -> str | None:
    if window is not None:
        return "maintenance"
    if not expected:  # not provisioned, suspended, offboarded, failed: shown as observed, if at all
        return None if seen is None or not seen["scraped"] else ("up" if seen["up"] else "down")
    if not state.get("served"):
        return "down"  # taken down: known here at once, before any scrape goes stale
    if not readable:
        return "unknown"
    if seen is None or not seen["scraped"]:
        return "missing"  # no series of it at all: only the alert that says so
    return "up" if seen["up"] else "down"


def _baseline(data: dict | None) -> dict | None:
    if data is None:
        return None
    return {"compliant": data.get("compliant"), "checked_at": data.get("checked_at"),
            "failed_mandatory": data.get("failed_mandatory") or []}


def summary(rows: list[dict[str, Any]]) -> str:
    """`33 tenants in the catalog, 3 provisioned here; expected 2: 1 up, 0 down, 1 missing, 0 in maintenance, …`"""
    provisioned = [row for row in rows if row["lifecycle"]]
    expected = [row for row in rows if row["expected"]]
    counts = {health: sum(row["health"] == health for row in expected) for health in HEALTHS}
    parts = [f"{counts['up']} up", f"{counts['down']} down", f"{counts['missing']} missing",
             f"{counts['maintenance']} in maintenance"] + ([f"{counts['unknown']} unknown"] if counts["unknown"] else [])
    others: dict[str, int] = {}
    for row in provisioned:
        if not row["expected"]:
            others[row["lifecycle"]["state"]] = others.get(row["lifecycle"]["state"], 0) + 1
    text = (f"{len(rows)} tenants in the catalog, {len(provisioned)} provisioned here; "
            f"expected {len(expected)}: {', '.join(parts)}")
    if others:
        text += "; not expected: " + ", ".join(f"{n} {state}" for state, n in sorted(others.items()))
    problems = [row["tenant"] for row in expected if row["health"] in ("down", "missing")]
    return text + (f"; down or missing: {', '.join(problems)}" if problems else "")
