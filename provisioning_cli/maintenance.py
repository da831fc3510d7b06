"""Maintenance windows: planned downtime with a reason and an end, kept in the tenant's state.json (`maintenance`)
and mirrored as an Alertmanager silence on its `province`, so that nothing notifies while it lasts and every view
shows "维护中 until …". When the window ends the silence ends with it: a tenant still down then alerts.
"""
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from monitoring.processes import Instance
from provisioning_cli.lifecycle import Lifecycle, lifecycle_of
from provisioning_cli.output import fail
from provisioning_cli.targets.local import LocalTarget
from provisioning_cli.targets.local_state import HISTORY_KEPT, now, read_json, write_state
from tenants import TenantSpec

CHINA = ZoneInfo("Asia/Shanghai")
LONGEST = timedelta(days=7)  # a forgotten window must not hide a province for longer
UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
STATE_KEY = "maintenance"
ALERTMANAGER = "alertmanager"  # the instance's name, directory ($FSP_HOME/monitoring/alertmanager) and program


class MaintenanceError(Exception):
    """A window that cannot be opened or a silence Alertmanager refused; the message says why."""


@contextmanager
def errors() -> Iterator[None]:
    """For commands: a window that cannot be opened or silenced is one `error:` line and exit 1."""
    try:
        yield
    except MaintenanceError as err:
        fail(str(err))


def parse_end(*, until: str | None, for_: str | None, at: datetime) -> datetime:
    """The window's end from `--until` (ISO 8601; without an offset it is China time) or `--for` (2h, 90m, 1h30m)."""
    if (until is None) == (for_ is None):
        raise MaintenanceError("give the window's end: --until TIME or --for DURATION (one of them)")
    if for_ is not None:
        if not re.fullmatch(r"(\d+[dhms])+", for_):
            raise MaintenanceError(f"--for {for_!r} is not a duration such as 2h, 90m or 1h30m")
        end = at + timedelta(seconds=sum(int(n) * UNITS[u] for n, u in re.findall(r"(\d+)([dhms])", for_)))
    else:
        try:
            end = datetime.fromisoformat(until)
        except ValueError:
            raise MaintenanceError(f"--until {until!r} is not a time such as 2026-12-01T08:00 or "
                                   "2026-12-01T08:00+08:00") from None
        end = end if end.tzinfo else end.replace(tzinfo=CHINA)
    if end <= at:
        raise MaintenanceError(f"the window would end at {shown(end)}, which is not in the future")
    if end - at > LONGEST:
        raise MaintenanceError(f"a window lasts at most {LONGEST.days} days; it would end at {shown(end)}")
    return end.astimezone(UTC)


def shown(moment: datetime | str) -> str:
    """China time, to the minute: `2026-12-01 08:00 CST`."""
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M CST")


def current_window(state: dict[str, Any] | None, at: datetime | None = None) -> dict[str, Any] | None:
    """The tenant's open window, or None (none recorded, or it has ended)."""
    window = (state or {}).get(STATE_KEY)
    if not window:
        return None
    at = at or datetime.now(UTC)
    return window if datetime.fromisoformat(window["until"]) > at else None


def open_window(state: dict[str, Any], *, reason: str, until: datetime, silence_id: str | None) -> dict[str, Any]:
    """Record the window in a state.json dict (the caller writes it), replacing any earlier one."""
    window = {"reason": reason, "since": now(), "until": until.isoformat(timespec="seconds"), "silence_id": silence_id}
    state[STATE_KEY] = window
    _history(state, "started", reason)
    return window


def close_window(state: dict[str, Any]) -> dict[str, Any] | None:
    """Remove the window from a state.json dict; the window it had, if any."""
    window = state.pop(STATE_KEY, None)
    if window is not None:
        _history(state, "ended", window.get("reason"))
    return window


def label(window: dict[str, Any] | None) -> str | None:
    """`维护中 until 2026-12-01 08:00 CST` for the views (the reason is beside it in --json and `maintenance list`)."""
    return None if window is None else f"维护中 until {shown(window['until'])}"


def _history(state: dict[str, Any], outcome: str, reason: str | None) -> None:
    history = state.setdefault("history", [])
    history.append({"at": now(), "resource": "maintenance", "outcome": outcome, **({"reason": reason} if reason else {})})
    del history[:-HISTORY_KEPT]


# --- Alertmanager silences (API v2) -------------------------------------------------------------------------------

def create_silence(url: str, *, province: str, reason: str, until: datetime) -> str:
    """A silence of every alert of `province` from now until `until`; its id."""
    body = {"matchers": [{"name": "province", "value": province, "isRegex": False, "isEqual": True}],
            "startsAt": datetime.now(UTC).isoformat(), "endsAt": until.isoformat(), "createdBy": "fsp maintenance",
            "comment": reason}
    answer = _call("POST", url, "/api/v2/silences", json=body)
    return answer.json()["silenceID"]


def expire_silence(url: str, silence_id: str) -> None:
    """End a silence now; one Alertmanager no longer knows (restarted without data) is already gone."""
    _call("DELETE", url, f"/api/v2/silence/{silence_id}", missing_ok=True)


def active_silences(url: str) -> set[str]:
    return {s["id"] for s in _call("GET", url, "/api/v2/silences").json() if s["status"]["state"] == "active"}


def _call(method: str, url: str, path: str, *, json: dict | None = None, missing_ok: bool = False) -> httpx.Response:
    try:
        answer = httpx.request(method, f"{url.rstrip('/')}{path}", json=json, timeout=10)
    except httpx.HTTPError as err:
        raise MaintenanceError(f"cannot reach Alertmanager at {url}: {type(err).__name__}: {err}") from None
    if answer.status_code == 404 and missing_ok:
        return answer
    if answer.status_code >= 300:
        raise MaintenanceError(f"Alertmanager at {url} refused {method} {path}: {answer.status_code} "
                               f"{answer.text.strip()[:200]}")
    return answer


# --- windows of the local target's tenants ------------------------------------------------------------------------

def local_alertmanager(home: Path) -> str | None:
    """The Alertmanager `fsp monitoring up` runs here, when it runs."""
    instance = Instance(ALERTMANAGER, home / "monitoring" / ALERTMANAGER, program=ALERTMANAGER)
    return instance.url() if instance.pid() is not None else None


def start(local: LocalTarget, spec: TenantSpec, *, reason: str, until: datetime, alertmanager: str | None) -> dict:
    """Open (or replace) the tenant's window and silence it; the window as recorded, with `silence` saying whether
    Alertmanager holds it (`fsp monitoring up` silences windows opened while it did not run)."""
    if not reason.strip():
        raise MaintenanceError("a maintenance window needs a reason (--reason TEXT)")
    with local.home.lock():
        path = local.home.tenant(spec.slug).state
        state = read_json(path)
        current = lifecycle_of(state)
        if current is None or not local.is_provisioned(spec):
            raise MaintenanceError(f"{spec.slug} is not provisioned here: it has no downtime to plan")
        if current.state == Lifecycle.offboarded:
            raise MaintenanceError(f"{spec.slug} is offboarded: nothing is expected of it")
        previous = current_window(state)
        silence_id = None
        if alertmanager is not None:
            silence_id = create_silence(alertmanager, province=spec.slug, reason=reason.strip(), until=until)
            if previous and previous.get("silence_id"):
                expire_silence(alertmanager, previous["silence_id"])
        window = open_window(state, reason=reason.strip(), until=until, silence_id=silence_id)
        write_state(path, state)
    return row(spec, window)


def end(local: LocalTarget, spec: TenantSpec, *, alertmanager: str | None) -> dict | None:
    """Close the tenant's window and its silence; the window it had (None: there was none)."""
    with local.home.lock():
        path = local.home.tenant(spec.slug).state
        state = read_json(path)
        if not state or STATE_KEY not in state:
            return None
        window = state[STATE_KEY]
        if window.get("silence_id") and alertmanager is not None:
            expire_silence(alertmanager, window["silence_id"])
        close_window(state)
        write_state(path, state)
    return row(spec, window)


def windows(local: LocalTarget) -> list[dict]:
    """Every open window of the catalog's tenants, in catalog order."""
    found = []
    for spec in local.catalog.tenants:
        window = current_window(read_json(local.home.tenant(spec.slug).state))
        if window is not None:
            found.append(row(spec, window))
    return found


def sync_silences(local: LocalTarget, alertmanager: str) -> list[str]:
    """Silence every open window Alertmanager does not hold (opened while it was not running, or it lost its data);
    the caller holds the home's lock. The tenants silenced now."""
    held = active_silences(alertmanager)
    silenced = []
    for spec in local.catalog.tenants:
        path = local.home.tenant(spec.slug).state
        state = read_json(path)
        window = current_window(state)
        if window is None or window.get("silence_id") in held:
            continue
        window["silence_id"] = create_silence(alertmanager, province=spec.slug, reason=window["reason"],
                                              until=datetime.fromisoformat(window["until"]))
        write_state(path, state)
        silenced.append(spec.slug)
    return silenced


def row(spec: TenantSpec, window: dict) -> dict:
    return {"tenant": spec.slug, "reason": window["reason"], "since": window["since"], "until": window["until"],
            "until_china": shown(window["until"]), "silenced": bool(window.get("silence_id")),
            "silence_id": window.get("silence_id")}
