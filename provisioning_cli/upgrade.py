"""Rolling the fleet's schema forward in waves (`fsp upgrade`): each tenant backed up, taken out of `fsp serve`,
migrated, served again and checked ready; after each wave a soak period watching readiness and the fleet's alerts.
The first breach halts the rollout; with `rollback` the wave that failed goes back to its revisions (downgraded
where the migrations allow it, otherwise restored from the pre-upgrade backup).

Restart semantics on the local target: `fsp serve` builds a tenant's app again when the tenant comes back after
being taken out (its `served` flag), so the upgrade drains it first and waits until the server has let it go.
"""
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from alembic import command
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from infra.ensure.database import current_revision
from monitoring.processes import Instance
from monitoring.render import FLEET
from provisioning_cli.backup_take import backup_directory, take_backup
from provisioning_cli.lifecycle import Lifecycle, lifecycle_of, set_lifecycle
from provisioning_cli.restore_cmd import restore_over
from provisioning_cli.targets import TargetError
from provisioning_cli.targets.local import LocalTarget, head_revision
from provisioning_cli.targets.local_state import HISTORY_KEPT, now, read_json, write_state
from registry import db
from tenants import TenantSpec

Say = Callable[[str], None]
UPGRADE_FAILURE = "upgrade failed"  # how a failed upgrade's lifecycle reason starts
WAIT_SECONDS = 30.0  # default wait for `fsp serve` to let a tenant go, or to find it ready again


@dataclass
class TenantUpgrade:
    tenant: str
    wave: str
    from_revision: str | None = None
    to_revision: str | None = None
    outcome: str = "not started"  # upgraded, unchanged, failed, not started; then rolled back: downgraded, restored
    step: str | None = None
    reason: str | None = None
    backup: str | None = None
    seconds: float = 0.0
    rollback: str | None = None


@dataclass
class Wave:
    name: str
    tenants: list[TenantUpgrade]
    outcome: str = "not started"  # passed, halted, not started
    soak: dict[str, Any] = field(default_factory=dict)


def target_revision(to: str | None) -> str:
    """The revision asked for (checked against the kit's migrations), or the kit's head."""
    if to is None or to == "head":
        return head_revision()
    script = ScriptDirectory.from_config(db.alembic_config("sqlite://"))
    try:
        script.get_revision(to)
    except CommandError:
        raise TargetError(f"--to {to}: no such migration revision in this kit (its head is {head_revision()})") from None
    return to


def plan_waves(local: LocalTarget, specs: list[TenantSpec], names: list[str]) -> list[Wave]:
    """The ministry first, then each named wave: `pilots` the catalog's pilot provinces, `rest` the others."""
    chosen = {spec.slug for spec in specs}
    pilots = {spec.slug for spec in local.catalog.pilots}
    members = {"ministry": lambda s: s.kind == "ministry", "pilots": lambda s: s.slug in pilots,
               "rest": lambda s: s.kind != "ministry" and s.slug not in pilots}
    waves, placed = [], set()
    for name in ["ministry", *names]:
        slugs = [s.slug for s in local.catalog.tenants if s.slug in chosen - placed and members[name](s)]
        placed.update(slugs)
        if slugs:
            waves.append(Wave(name, [TenantUpgrade(slug, name) for slug in slugs]))
    return waves


class Rollout:
    """One `fsp upgrade` run over `waves` (the caller holds $FSP_HOME's lock)."""

    def __init__(self, local: LocalTarget, to: str, *, key: bytes, soak: float, say: Say,
                 wait: float = WAIT_SECONDS) -> None:
        self.local, self.to, self.key, self.soak_seconds, self.say, self.wait = local, to, key, soak, say, wait
        self.base = local.base_url()
        self.prometheus = _fleet_prometheus(local)

    def run(self, waves: list[Wave], *, rollback: bool) -> dict[str, Any]:
        """Wave after wave until the first breach; the report (see README "Upgrades in waves")."""
        started = time.monotonic()
        self._serve_answers()
        breach = None
        for wave in waves:
            for item in wave.tenants:
                breach = self._upgrade(item)
                if breach:
                    break
            if breach is None:
                breach = self._soak(wave)
            wave.outcome = "halted" if breach else "passed"
            if breach:
                if rollback:
                    self._roll_back(wave)
                break
        return {"to": self.to, "outcome": "halted" if breach else "completed", "breach": breach,
                "rolled_back": bool(breach and rollback), "seconds": round(time.monotonic() - started, 2),
                "alerts": "checked on " + self.prometheus if self.prometheus else "not checked: no fleet Prometheus",
                "waves": [{**asdict(w), "tenants": [asdict(t) for t in w.tenants]} for w in waves]}

    # --- one tenant --------------------------------------------------------------------------------------------

    def _upgrade(self, item: TenantUpgrade) -> dict[str, Any] | None:
        spec, started = self.local.catalog.resolve(item.tenant), time.monotonic()
        settings = self.local.settings(spec)
        item.from_revision, item.to_revision = _revision(settings.database_url), self.to
        try:
            if item.from_revision == self.to:
                item.outcome = "unchanged"
                item.step = "readiness"
                self._ready(spec)
            else:
                item.step = "backup"
                self.say(f"{spec.slug}: backing up before the upgrade")
                item.backup = take_backup(settings, backup_directory(self.local, spec), key=self.key, fresh=True)["file"]
                with self._drained(spec):
                    item.step = "migrate"
                    self.say(f"{spec.slug}: migrating {item.from_revision} → {self.to}")
                    command.upgrade(db.alembic_config(settings.database_url), _alembic_target(self.to))
                    self._record(spec, item, "upgraded")
                item.outcome, item.step = "upgraded", "readiness"
                self._ready(spec)
            item.step = None
        except Exception as err:  # noqa: BLE001 — any failure is this tenant's breach, reported, never a traceback
            item.outcome = "failed"  # `step` says how far it went: migrate (maybe half-applied) or readiness (applied)
            item.reason = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
            self._record(spec, item, "failed")
        finally:
            item.seconds = round(time.monotonic() - started, 2)
        if item.reason:
            self.say(f"{spec.slug}: {item.step} failed: {item.reason}")
            return {"tenant": spec.slug, "wave": item.wave, "step": item.step, "reason": item.reason}
        return None

    def _roll_back(self, wave: Wave) -> None:
        """Each tenant of the wave that was touched goes back to its revision before the upgrade."""
        for item in reversed(wave.tenants):
            if item.outcome in ("not started", "unchanged") or item.backup is None:
                continue
            spec = self.local.catalog.resolve(item.tenant)
            settings = self.local.settings(spec)
            with self._drained(spec):
                if _revision(settings.database_url) == item.from_revision and item.step == "migrate":
                    item.rollback = "unchanged: the failed migration's transaction was rolled back"
                elif item.step != "migrate" and self._downgrade(spec, settings.database_url, item):
                    item.rollback = f"downgraded to {item.from_revision}"
                else:  # a migration that cannot be undone
                    self.say(f"{spec.slug}: restoring the backup taken before the upgrade")
                    restore_over(self.local, spec, settings, backup_directory(self.local, spec), Path(item.backup),
                                 self.key, lambda step, slug=spec.slug: self.say(f"{slug}: {step}"))
                    item.rollback = f"restored from {Path(item.backup).name}"
                self._record(spec, item, "rolled back")
            try:  # at its old revision it is alive, not ready: the kit served is newer
                self._wait(spec, "/healthz", lambda r: r.status_code == 200, "to be served again")
            except TargetError as err:
                item.rollback += f"; {err}"

    def _downgrade(self, spec: TenantSpec, url: str, item: TenantUpgrade) -> bool:
        self.say(f"{spec.slug}: downgrading to {item.from_revision}")
        try:
            command.downgrade(db.alembic_config(url), _alembic_target(item.from_revision))
        except Exception as err:  # noqa: BLE001 — a migration without a way back: the backup is
            self.say(f"{spec.slug}: cannot downgrade ({err}); restoring instead")
            return False
        return True

    # --- fsp serve ---------------------------------------------------------------------------------------------

    def _serve_answers(self) -> None:
        try:
            httpx.get(f"{self.base}/", timeout=5)
        except httpx.HTTPError:
            raise TargetError(f"`fsp serve` does not answer at {self.base}: start it, the upgrade checks each "
                              "tenant's readiness through it") from None

    @contextmanager
    def _drained(self, spec: TenantSpec) -> Iterator[None]:
        """Out of `fsp serve` while its database changes; served again afterwards, whatever happened."""
        self._set_served(spec, False)
        try:
            self._wait(spec, "/healthz", _not_served, "to be let go by `fsp serve`")
            yield
        finally:
            self._set_served(spec, True)

    def _set_served(self, spec: TenantSpec, served: bool) -> None:
        path = self.local.home.tenant(spec.slug).state
        state = read_json(path) or {}
        state["served"] = served
        write_state(path, state)

    def _ready(self, spec: TenantSpec) -> None:
        self.say(f"{spec.slug}: waiting until ready")
        self._wait(spec, "/readyz", lambda r: r.status_code == 200, "to be ready")

    def _wait(self, spec: TenantSpec, path: str, done: Callable[[httpx.Response], bool], what: str) -> None:
        deadline, last = time.monotonic() + self.wait, "no answer"
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"{self.base}/{spec.slug}{path}", timeout=5)
                if done(answer):
                    return
                last = f"{answer.status_code} {answer.text[:200]}"
            except httpx.HTTPError as err:
                last = str(err)
            time.sleep(0.5)
        raise TargetError(f"{spec.slug} did not come {what} within {self.wait:g} s: {last}")

    # --- soak --------------------------------------------------------------------------------------------------

    def _soak(self, wave: Wave) -> dict[str, Any] | None:
        """Watch the wave for `soak` seconds: every tenant stays ready, no alert fires for it in the fleet."""
        slugs = [t.tenant for t in wave.tenants]
        wave.soak = {"seconds": self.soak_seconds, "checks": 0,
                     "alerts": [] if self.prometheus else "not checked: no fleet Prometheus"}
        if self.soak_seconds <= 0:
            return None
        self.say(f"wave {wave.name}: soaking {self.soak_seconds:g} s")
        deadline = time.monotonic() + self.soak_seconds
        while True:
            wave.soak["checks"] += 1
            for slug in slugs:
                answer = _get(f"{self.base}/{slug}/readyz")
                if answer is None or answer.status_code != 200:
                    reason = f"not ready during the soak: {answer.status_code if answer else 'no answer'}"
                    return {"tenant": slug, "wave": wave.name, "step": "soak", "reason": reason}
            if self.prometheus:
                firing = _firing_alerts(self.prometheus, slugs)
                if firing:
                    wave.soak["alerts"] = firing
                    return {"tenant": firing[0]["province"], "wave": wave.name, "step": "soak",
                            "reason": "alert firing: " + ", ".join(sorted({a["alertname"] for a in firing}))}
            if time.monotonic() >= deadline:
                return None
            time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))

    def _record(self, spec: TenantSpec, item: TenantUpgrade, outcome: str) -> None:
        """state.json: the revision the tenant is at, and the upgrade in its (bounded) history."""
        path = self.local.home.tenant(spec.slug).state
        state = read_json(path) or {}
        state["migration"] = _revision(self.local.settings(spec).database_url)
        upgrades = state.setdefault("upgrades", [])
        upgrades.append({"at": now(), "from": item.from_revision, "to": item.to_revision, "wave": item.wave,
                         "outcome": outcome, **({"reason": item.reason} if item.reason else {}),
                         **({"rollback": item.rollback} if item.rollback else {}),
                         **({"backup": Path(item.backup).name} if item.backup else {})})
        del upgrades[:-HISTORY_KEPT]
        # a failed upgrade is the tenant's failure (fleet view, FspTenantFailed) until upgraded or rolled back
        current = lifecycle_of(state)
        if outcome == "failed":
            set_lifecycle(state, Lifecycle.failed, f"{UPGRADE_FAILURE} at {item.step}: {item.reason}")
        elif current and current.state == Lifecycle.failed and (current.reason or "").startswith(UPGRADE_FAILURE):
            set_lifecycle(state, Lifecycle.active)
        write_state(path, state)


def _revision(url: str) -> str | None:
    return ",".join(sorted(current_revision(url))) or None


def _alembic_target(revision: str | None) -> str:
    return "heads" if revision and "," in revision else revision or "base"


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None


def _fleet_prometheus(local: LocalTarget) -> str | None:
    """The ministry's Prometheus that `fsp monitoring up` runs here, if it runs."""
    fleet = Instance(FLEET, local.home.root / "monitoring" / "prometheus" / FLEET)
    return fleet.url() if fleet.pid() is not None else None


def _firing_alerts(prometheus: str, slugs: list[str]) -> list[dict[str, str]]:
    query = f'ALERTS{{alertstate="firing",province=~"{"|".join(slugs)}"}}'
    answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": query}, timeout=10)
    answer.raise_for_status()
    return [{"alertname": r["metric"].get("alertname", ""), "province": r["metric"].get("province", ""),
             "severity": r["metric"].get("severity", "")} for r in answer.json()["data"]["result"]]


def _not_served(answer: httpx.Response) -> bool:
    """The gateway answers a catalog tenant it no longer serves with 503 `tenant_not_served` (not its healthz)."""
    if answer.status_code != 503:
        return False
    try:
        return any(e.get("rule") == "tenant_not_served" for e in answer.json().get("errors", []))
    except ValueError:
        return False
