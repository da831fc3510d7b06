"""The local target's files under $FSP_HOME: where each lives, and state.json read and written whole.

    $FSP_HOME/serve.json                          address `fsp serve` listens on
    $FSP_HOME/monitoring/targets/<slug>.json      Prometheus file_sd scrape target
    $FSP_HOME/tenants/<slug>/registry.db          SQLite database (when not on PostgreSQL)
    $FSP_HOME/tenants/<slug>/keys/                0700, every key file 0600
    $FSP_HOME/tenants/<slug>/secrets/             0700: database-url (with password), postgres-admin-url
    $FSP_HOME/tenants/<slug>/tenant.json          the tenant's runtime settings, without secrets
    $FSP_HOME/tenants/<slug>/state.json           provisioned resources, outcome history, served flag, incarnation
    $FSP_HOME/tenants/<slug>/baseline.json        the last `fsp baseline check` (counts, verdict, time)
    $FSP_HOME/tenants/ministry/exchange-peers/    provinces' exchange public keys
"""
import fcntl
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.ensure.files import ensure_file, write_atomic
from provisioning_cli.targets import TargetError

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
HISTORY_KEPT = 100


@dataclass(frozen=True)
class TenantPaths:
    """One tenant's files on the local target."""

    root: Path

    @property
    def sqlite(self) -> Path:
        return self.root / "registry.db"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def database_url_secret(self) -> Path:
        return self.secrets / "database-url"

    @property
    def admin_url_secret(self) -> Path:
        return self.secrets / "postgres-admin-url"

    @property
    def settings(self) -> Path:
        return self.root / "tenant.json"

    @property
    def state(self) -> Path:
        return self.root / "state.json"

    @property
    def baseline(self) -> Path:
        """The last `fsp baseline check`: counts and verdict, which the tenant's /metrics exports."""
        return self.root / "baseline.json"

    @property
    def peers(self) -> Path:
        return self.root / "exchange-peers"


@dataclass(frozen=True)
class Home:
    """$FSP_HOME: the local target's whole state."""

    root: Path

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Only one command changes $FSP_HOME at a time (two `fsp up` could race to create the same role)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise TargetError(f"another fsp command is changing {self.root}; try again when it is done") from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def tenant(self, slug: str) -> TenantPaths:
        return TenantPaths(self.root / "tenants" / slug)

    @property
    def fleet_keys(self) -> Path:
        """Keys the control plane shares with every province (the person-matching key)."""
        return self.root / "fleet" / "keys"

    @property
    def scrape_targets(self) -> Path:
        return self.root / "monitoring" / "targets"

    @property
    def serve_file(self) -> Path:
        return self.root / "serve.json"

    def serve_address(self) -> tuple[str, int]:
        """Where `fsp serve` listens (or last listened): what endpoints and scrape targets name."""
        try:
            data = json.loads(self.serve_file.read_text())
            return str(data["host"]), int(data["port"])
        except (FileNotFoundError, KeyError, ValueError):
            return DEFAULT_HOST, DEFAULT_PORT

    def record_serve_address(self, host: str, port: int) -> None:
        ensure_file(self.serve_file, json_bytes({"host": host, "port": port}), mode=0o644)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def json_bytes(data: Any) -> bytes:
    """Stable JSON, so unchanged data gives unchanged bytes."""
    return (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None


def read_secret(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None


def write_state(path: Path, state: dict[str, Any]) -> None:
    write_atomic(path, json_bytes(state), mode=0o600)


def incarnation_of(state: dict[str, Any]) -> str:
    """Which incarnation of the tenant this state is: a purge and a new `fsp up` make another one (new keys, new
    database), which nothing built for the old one may serve. Once the database exists it is the database's own
    (`tenant_status`, whose incarnation the exchange's epochs follow). States written before incarnations were
    recorded are told apart by their creation time and database."""
    if state.get("incarnation"):
        return str(state["incarnation"])
    return json.dumps([state.get("created_at"), state.get("database")], sort_keys=True)


def new_incarnation() -> str:
    return uuid.uuid4().hex


def record(state: dict[str, Any], resource: str, outcome: str) -> None:
    """Note a resource's outcome; only changes go into the (bounded) history."""
    at = now()
    entry = state.setdefault("resources", {}).setdefault(resource, {})
    entry["outcome"] = outcome
    if outcome != "unchanged":
        entry["changed_at"] = at
        history = state.setdefault("history", [])
        history.append({"at": at, "resource": resource, "outcome": outcome})
        del history[:-HISTORY_KEPT]
