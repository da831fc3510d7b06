"""The local target: every tenant's state under $FSP_HOME, served by one `fsp serve` process.

`up` converges a tenant's resources in order (database, migrations, keys, settings, exchange registration,
monitoring target, serve flag) with the ensure-functions of `infra.ensure`, and records each outcome in the
tenant's state.json. Secrets live only in the tenant's `secrets/` directory.
"""
import os
import secrets as random_secrets
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, make_url

from infra.ensure import ProvisioningError
from infra.ensure.database import (
    current_revision,
    drop_postgres_database,
    ensure_migrations,
    ensure_postgres_database,
    ensure_sqlite_database,
    mask_url,
    migration_heads,
    password_fingerprint,
    tenant_database_url,
    url_without_password,
)
from infra.ensure.files import ensure_file, ensure_private_dir, remove_path
from infra.ensure.keys import ensure_tenant_keys, exchange_public_key
from infra.ensure.monitoring import ensure_scrape_target, remove_scrape_target
from infra.ensure.realm import apply_realm, government_identity_secret, identity_provider_status, realm_outcome
from infra.ensure.registration import (
    ensure_exchange_registration,
    registered_peers,
    remove_exchange_registration,
)
from provisioning_cli.lifecycle import Lifecycle, lifecycle_of, set_lifecycle
from provisioning_cli.targets import NotProvisionedError, TargetError, local_probe
from provisioning_cli.targets.local_fleet import Convergence, converge_fleet
from provisioning_cli.targets.local_state import (
    Home,
    TenantPaths,
    json_bytes,
    new_incarnation,
    now,
    read_json,
    read_secret,
    record,
    write_state,
)
from registry import __version__, db, tenant_status
from registry.config import Settings
from registry.security.key_ledger import key_problems, protect_keys, record_keys
from tenants import Catalog, TenantSpec

# what `up` converges, in order; `down` and `purge` report on the same names (and "state")
RESOURCES = ("database", "migrations", "keys", "realm", "settings", "registration", "monitoring", "serve", "state")
# (tenant slug, resource, outcome): outcome is created|updated|unchanged, or deleted|absent when removing
Result = tuple[str, str, str]
# the last fleet-wide `fsp drift`, in the ministry's folder; its settings name it, so its /metrics counts the drift
DRIFT_FILE = "drift.json"


class ConvergeFailed(TargetError):
    """`up` of one tenant stopped at `step`; the message is the cause's, so it reads as before."""

    def __init__(self, slug: str, step: str, reason: str) -> None:
        super().__init__(reason)
        self.slug, self.step, self.reason = slug, step, reason


def head_revision() -> str:
    """The migration head this kit ships, as one string."""
    return ",".join(sorted(migration_heads()))


class LocalTarget:
    """Tenants provisioned on this machine, under `home`."""

    def __init__(self, home: Path, catalog: Catalog) -> None:
        self.home = Home(Path(home).resolve())
        self.catalog = catalog

    # --- converging ----------------------------------------------------------------------------------------------

    def plan(self, specs: Iterable[TenantSpec]) -> list[TenantSpec]:
        """The tenants to converge, in order: the ministry first whenever a province needs it."""
        wanted = {spec.slug for spec in specs}
        if any(spec.kind == "province" for spec in self.catalog.tenants if spec.slug in wanted):
            wanted.add(self.catalog.ministry.slug)
        return [spec for spec in self.catalog.tenants if spec.slug in wanted]

    def converge(self, specs: Iterable[TenantSpec], *, postgres_url: str | None = None,
                 on_tenant: Callable[[TenantSpec], None] | None = None, parallel: int = 1,
                 fleet: Iterable[TenantSpec] = ()) -> Convergence:
        """`up` for each tenant of the plan under one lock, going on past those that fail (see local_fleet);
        the provinces `parallel` at a time. Tenants chosen fleet-wide (`fleet`, not named) are skipped while
        suspended or offboarded; `on_tenant` is told when each one is done."""
        specs = list(specs)
        with self.home.lock():
            return converge_fleet(self, self.plan([*specs, *fleet]), named={spec.slug for spec in specs},
                                  postgres_url=postgres_url, parallel=parallel, on_tenant=on_tenant)

    def up(self, spec: TenantSpec, *, postgres_url: str | None = None) -> list[Result]:
        """Converge one tenant; re-running it changes nothing and reports every resource `unchanged`.

        The caller holds `home.lock()` (`converge` does) and has provisioned the ministry first.
        """
        registers = spec.kind == "province" and spec.exchange.enabled
        ministry = self.catalog.ministry
        if registers and not self.is_provisioned(ministry):
            raise ConvergeFailed(spec.slug, "ministry", f"the ministry must be provisioned before {spec.slug}: "
                                                        f"`fsp up {spec.slug}` does both")
        paths = self.home.tenant(spec.slug)
        try:
            recorded = read_json(paths.state)
        except ValueError as err:
            raise ConvergeFailed(spec.slug, "state", f"{paths.state} is not valid JSON ({err}): put back a good "
                                                     f"copy, or `fsp down {spec.slug} --purge --yes`") from None
        state = recorded or {"tenant": spec.slug, "code": spec.code, "kind": spec.kind,
                             "target": "local", "created_at": now(), "served": False,
                             "incarnation": new_incarnation()}
        results: list[Result] = []
        # the steps this tenant goes through, in order: the first one not done is the one that failed
        steps = [r for r in RESOURCES if r != "state" and (r != "realm" or spec.sso.provider == "keycloak")
                 and (r != "registration" or registers)]

        def step(resource: str, outcome: str) -> None:
            record(state, resource, outcome)
            results.append((spec.slug, resource, outcome))

        ensure_private_dir(paths.root)
        ensure_private_dir(paths.secrets)
        # an offboarded province's tombstone: provisioned anew, with a new database (and exchange epoch)
        if lifecycle_of(state).state == Lifecycle.offboarded:
            state["incarnation"] = new_incarnation()  # `fsp serve` must not take it for the tenant that left
        if lifecycle_of(state).state in (Lifecycle.provisioning, Lifecycle.failed, Lifecycle.offboarded):
            set_lifecycle(state, Lifecycle.provisioning)
        try:
            url = self._ensure_database(spec, paths, state, postgres_url, step)
            step("migrations", ensure_migrations(url))
            state["migration"] = head_revision()
            fleet_keys = self.home.fleet_keys if spec.kind == "province" else None
            with self._engine_at(url) as engine:
                protect_keys(engine, paths.keys)  # never a new key where data depends on a lost one
                step("keys", ensure_tenant_keys(paths.keys, fleet_keys=fleet_keys))
                state["keys"] = record_keys(engine, paths.keys)
                # one incarnation: the database's own (the exchange's epochs follow it), which `fsp serve` follows too
                state["incarnation"] = tenant_status.read(engine).incarnation or state["incarnation"]
            if spec.sso.provider == "keycloak":
                step("realm", _ensure_realm(spec))
            step("settings", ensure_file(paths.settings, json_bytes(_runtime_settings(spec, paths, url))))
            peers = self.home.tenant(ministry.slug).peers
            if registers:
                step("registration", ensure_exchange_registration(peers, slug=spec.slug,
                                                                  public_pem=exchange_public_key(paths.keys)))
            elif spec.kind == "province" and remove_exchange_registration(peers, slug=spec.slug) == "deleted":
                step("registration", "deleted")  # its exchange was switched off in the catalog
            host, port = self.home.serve_address()
            step("monitoring", ensure_scrape_target(self.home.scrape_targets, slug=spec.slug, code=spec.code,
                                                    address=f"{host}:{port}"))
            step("serve", "unchanged" if state["served"] else "created" if "converged_at" not in state else "updated")
            state.update(served=True, converged_at=now(), version=__version__)
            if lifecycle_of(state).state == Lifecycle.provisioning:
                set_lifecycle(state, Lifecycle.active)
        except Exception as err:
            reason = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
            set_lifecycle(state, Lifecycle.failed, reason=reason)
            done = {resource for _, resource, _ in results}
            failed_step = next((r for r in steps if r not in done), "state")
            raise ConvergeFailed(spec.slug, failed_step, str(err) or type(err).__name__) from err
        finally:
            write_state(paths.state, state)  # what was done is recorded even when a later step fails
        return results

    def _ensure_database(self, spec: TenantSpec, paths: TenantPaths, state: dict[str, Any],
                         postgres_url: str | None, step: Callable[[str, str], None]) -> str:
        """The tenant's database, on the backend it already has (or the one asked for); its full URL."""
        backend = state.get("database", {}).get("backend")
        if backend == "sqlite" and postgres_url:
            raise TargetError(f"{spec.slug} is provisioned on SQLite; to move it to PostgreSQL, "
                              f"`fsp down {spec.slug} --purge --yes` first (this deletes its data)")
        if backend == "postgresql" or (backend is None and postgres_url):
            return self._ensure_postgres(spec, paths, state, postgres_url, step)
        if spec.database.backend == "postgresql":
            raise TargetError(f"{spec.slug}'s catalog entry asks for PostgreSQL: pass --postgres DSN "
                              "(or set FSP_POSTGRES_URL)")
        step("database", ensure_sqlite_database(paths.sqlite))
        url = f"sqlite:///{paths.sqlite}"
        state["database"] = {"backend": "sqlite", "url": url}
        return url

    def _ensure_postgres(self, spec: TenantSpec, paths: TenantPaths, state: dict[str, Any],
                         postgres_url: str | None, step: Callable[[str, str], None]) -> str:
        recorded = state.get("database", {})
        stored_admin = read_secret(paths.admin_url_secret)
        admin_url = postgres_url or stored_admin
        if admin_url is None:
            raise TargetError(f"{spec.slug} is on PostgreSQL but its server DSN is gone: pass --postgres DSN")
        if stored_admin and _server(stored_admin) != _server(admin_url):
            raise TargetError(f"{spec.slug} is provisioned on the PostgreSQL server {mask_url(stored_admin)}, "
                              f"not {mask_url(admin_url)}; purge it there first to move it")
        name = recorded.get("name") or self._postgres_name(spec.slug)
        old_url = read_secret(paths.database_url_secret)
        password = make_url(old_url).password if old_url else random_secrets.token_urlsafe(32)
        url = tenant_database_url(admin_url, database=name, role=name, password=password)
        # the secrets first: a run that stops after the role exists can still log in with them
        ensure_file(paths.database_url_secret, url.encode())
        ensure_file(paths.admin_url_secret, admin_url.encode())
        step("database", ensure_postgres_database(admin_url, database=name, role=name, password=password,
                                                  known_fingerprint=recorded.get("password_fingerprint")))
        state["database"] = {"backend": "postgresql", "url": url_without_password(url), "name": name, "role": name,
                             "server": mask_url(admin_url),
                             "password_fingerprint": password_fingerprint(name, password)}
        return url

    def _postgres_name(self, slug: str) -> str:
        # one server may hold the tenants of several $FSP_HOMEs (a demo and a test run): names must not collide
        return f"fsp_{slug.replace('-', '_')}_{zlib.crc32(str(self.home.root).encode()):08x}"

    # --- taking down ---------------------------------------------------------------------------------------------

    def down(self, spec: TenantSpec) -> list[Result]:
        """Stop serving the tenant and scraping it; its data, keys and registration stay."""
        with self.home.lock():
            return self._down(spec)

    def _down(self, spec: TenantSpec) -> list[Result]:
        paths = self.home.tenant(spec.slug)
        state = self._state(spec)
        results = [(spec.slug, "serve", "updated" if state.get("served") else "unchanged"),
                   (spec.slug, "monitoring", remove_scrape_target(self.home.scrape_targets, slug=spec.slug))]
        state["served"] = False
        for _, resource, outcome in results:
            record(state, resource, outcome)
        write_state(paths.state, state)
        return results

    def purge(self, spec: TenantSpec, *, postgres_url: str | None = None) -> list[Result]:
        """Delete everything of the tenant: database (PostgreSQL database and role), keys, state, registration."""
        with self.home.lock():
            return self._purge(spec, postgres_url)

    def _purge(self, spec: TenantSpec, postgres_url: str | None) -> list[Result]:
        ministry = self.catalog.ministry
        peers = registered_peers(self.home.tenant(ministry.slug).peers)
        if spec.slug == ministry.slug and peers:
            raise TargetError(f"provinces still registered with the ministry: {', '.join(peers)}; purge them first")
        paths = self.home.tenant(spec.slug)
        database = (read_json(paths.state) or {}).get("database", {})
        if database.get("backend") == "postgresql":
            admin_url = postgres_url or read_secret(paths.admin_url_secret)
            if admin_url is None:
                raise TargetError(f"{spec.slug}'s PostgreSQL server DSN is gone: pass --postgres DSN to drop it")
            dropped = drop_postgres_database(admin_url, database=database["name"], role=database["role"])
        else:
            dropped = remove_path(paths.sqlite)
            for suffix in ("-wal", "-shm"):
                remove_path(paths.sqlite.with_name(paths.sqlite.name + suffix))
        results = [(spec.slug, "database", dropped)]
        if spec.kind == "province":
            results.append((spec.slug, "registration", remove_exchange_registration(
                self.home.tenant(ministry.slug).peers, slug=spec.slug)))
        results.append((spec.slug, "monitoring", remove_scrape_target(self.home.scrape_targets, slug=spec.slug)))
        results.append((spec.slug, "keys", remove_path(paths.keys)))
        results.append((spec.slug, "state", remove_path(paths.root)))
        return results

    # --- reading -------------------------------------------------------------------------------------------------

    def _state(self, spec: TenantSpec) -> dict[str, Any]:
        state = read_json(self.home.tenant(spec.slug).state)
        if state is None or "converged_at" not in state:
            raise NotProvisionedError(spec.slug)
        return state

    def is_provisioned(self, spec: TenantSpec) -> bool:
        """A complete `up` of the tenant has run here (and it was not purged since)."""
        state = read_json(self.home.tenant(spec.slug).state)
        return state is not None and "converged_at" in state

    def served(self) -> list[TenantSpec]:
        """Provisioned tenants not taken down, the ministry first."""
        states = ((spec, read_json(self.home.tenant(spec.slug).state) or {}) for spec in self.catalog.tenants)
        return [spec for spec, state in states if state.get("served") and "converged_at" in state]

    @contextmanager
    def engine(self, spec: TenantSpec) -> Iterator[Engine]:
        """An engine on the tenant's database, disposed of on exit (for commands that read or write it)."""
        with self._engine_at(self.settings(spec).database_url) as engine:
            yield engine

    @staticmethod
    @contextmanager
    def _engine_at(url: str) -> Iterator[Engine]:
        engine = db.make_engine(Settings(database_url=url))
        try:
            yield engine
        finally:
            engine.dispose()

    def settings(self, spec: TenantSpec) -> Settings:
        """The tenant's runtime settings, as `fsp serve` and `fsp token` use them (secrets included)."""
        paths = self.home.tenant(spec.slug)
        data = read_json(paths.settings)
        if data is None or not self.is_provisioned(spec):
            raise NotProvisionedError(spec.slug)
        url = read_secret(paths.database_url_secret) or data["database_url"]
        return Settings(**{**data, "database_url": url, "keys_dir": Path(data["keys_dir"])})

    def publish(self, host: str, port: int) -> list[Result]:
        """Record where `fsp serve` listens, and point the served tenants' scrape targets there."""
        with self.home.lock():
            self.home.record_serve_address(host, port)
            return [(spec.slug, "monitoring", ensure_scrape_target(self.home.scrape_targets, slug=spec.slug,
                                                                   code=spec.code, address=f"{host}:{port}"))
                    for spec in self.served()]

    def base_url(self) -> str:
        """Where `fsp serve` answers (or will, on its default address)."""
        host, port = self.home.serve_address()
        return f"http://{host}:{port}"

    def endpoint(self, spec: TenantSpec) -> str:
        """The tenant's API root under `fsp serve`."""
        return f"{self.base_url()}/{spec.slug}/api/v1"

    def status(self, specs: Sequence[TenantSpec]) -> list[dict[str, Any]]:
        """One row per tenant, provisioned or not; the migration is read from the database itself."""
        head = head_revision()
        rows = []
        for spec in specs:
            row: dict[str, Any] = {"tenant": spec.slug, "code": spec.code, "name": spec.name_zh, "kind": spec.kind,
                                   "provisioned": False, "served": False, "migration": None, "head": head,
                                   "version": None, "backend": None, "database": None, "endpoint": None,
                                   # whether citizens can sign in (我的办事), and with which identity
                                   "citizen_sign_in": identity_provider_status(spec)}
            if self.is_provisioned(spec):
                paths = self.home.tenant(spec.slug)
                state = read_json(paths.state) or {}
                url = read_secret(paths.database_url_secret) or state["database"]["url"]
                row.update(provisioned=True, served=bool(state.get("served")), version=state.get("version"),
                           lifecycle=lifecycle_of(state).as_dict(),
                           backend=state["database"]["backend"], database=mask_url(url), endpoint=self.endpoint(spec),
                           converged_at=state.get("converged_at"))
                try:
                    row["migration"] = ",".join(sorted(current_revision(url))) or None
                    with self._engine_at(url) as engine:
                        problems = key_problems(engine, paths.keys)
                    row["keys"] = "lost or replaced" if problems else "ok"
                    if problems:
                        row["problem"] = "; ".join(problems)
                except ProvisioningError as err:
                    row["problem"] = str(err)
            rows.append(row)
        self._probe_served(rows)
        return rows

    def _probe_served(self, rows: list[dict[str, Any]]) -> None:
        """`served` is what the server says: true only when the tenant answers at the serve address now;
        `serve` says why (ready, not ready, not running, not mounted, taken down)."""
        wanted = [row["tenant"] for row in rows if row["served"]]  # provisioned and not taken down
        answers = local_probe.probe(self.base_url(), wanted) if wanted else {}
        for row in rows:
            if not row["provisioned"]:
                row["serve"] = None
            elif not row["served"]:
                row["serve"] = local_probe.TAKEN_DOWN
            else:
                row["serve"], reason = answers[row["tenant"]]
                row["served"] = row["serve"] in (local_probe.READY, local_probe.NOT_READY)
                if reason:
                    row["serve_reason"] = reason


def _runtime_settings(spec: TenantSpec, paths: TenantPaths, url: str) -> dict[str, Any]:
    """tenant.json: every Settings field, so nothing comes from the environment; no password."""
    defaults = {name: field.default for name, field in Settings.model_fields.items()}
    return {**defaults, "tenant_code": spec.code, "tenant_slug": spec.slug, "role": spec.kind,
            "database_url": url_without_password(url) if not url.startswith("sqlite") else url,
            "keys_dir": str(paths.keys), "token_issuer": _issuer(spec), "environment": "development",
            "db_pool_size": spec.database.pool_size, "backup_dir": str(paths.root / "backups"),
            "baseline_file": str(paths.baseline),
            "citizen_identity_provider": spec.sso.government_identity.alias if spec.sso.government_identity else None,
            "mqtt_url": spec.equipment.mqtt,
            # the ministry accepts exchange batches signed by the provinces registered there
            "exchange_peers_dir": str(paths.peers) if spec.kind == "ministry" else None,
            # the ministry's /metrics counts what the last fleet-wide `fsp drift` found
            "drift_file": str(paths.root / DRIFT_FILE) if spec.kind == "ministry" else None}


def _ensure_realm(spec: TenantSpec) -> str:
    """The tenant's Keycloak realm, with the administrator from the environment (never stored here)."""
    user, password = os.environ.get("FSP_KEYCLOAK_ADMIN_USER"), os.environ.get("FSP_KEYCLOAK_ADMIN_PASSWORD")
    if not user or not password:
        raise TargetError(f"{spec.slug} signs in with Keycloak: set FSP_KEYCLOAK_ADMIN_USER and "
                          "FSP_KEYCLOAK_ADMIN_PASSWORD (a master-realm administrator) to apply its realm")
    return realm_outcome(apply_realm(str(spec.sso.keycloak_url).rstrip("/"), user, password, spec,
                                     identity_secret=government_identity_secret()))


def _issuer(spec: TenantSpec) -> str:
    if spec.sso.provider == "keycloak":
        return f"{str(spec.sso.keycloak_url).rstrip('/')}/realms/{spec.realm_name}"
    return f"fsp-dev:{spec.slug}"


def _server(url: str) -> tuple:
    """What identifies a PostgreSQL server in a DSN: host (or socket directory) and port."""
    u = make_url(url)
    return u.host or u.query.get("host"), int(u.port or u.query.get("port") or 5432)
