"""One tenant's drift on the local target, resource by resource, each against what `fsp up` declares for it.

Every check only reads (files, the database, Keycloak's admin API, Pulumi's preview); a check that fails is
recorded as an error of that resource and the others still run.
"""
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from keycloak.exceptions import KeycloakError
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

from infra.ensure import ProvisioningError
from infra.ensure.database import current_revision, known_revisions, migration_heads, postgres_drift
from infra.ensure.keys import EXCHANGE_PRIVATE_KEY, EXCHANGE_PUBLIC_KEY, exchange_public_key
from infra.ensure.monitoring import scrape_target
from infra.ensure.realm import connect, keycloak_errors
from infra.ensure.realm_drift import realm_drift
from provisioning_cli.drift import Difference, TenantDrift, Unchecked
from provisioning_cli.lifecycle import lifecycle_of
from provisioning_cli.options import ADMIN_PASSWORD_ENV, ADMIN_USER_ENV
from provisioning_cli.targets import TargetError
from provisioning_cli.targets.local import LocalTarget, _runtime_settings
from provisioning_cli.targets.local_state import json_bytes, read_json, read_secret
from registry.security.key_ledger import REPLACEABLE, key_ids, key_problems, recorded_beside
from registry.security.keys import KeyMaterialError
from tenants import TenantSpec

PRIVATE_DIR, PRIVATE_FILE, PUBLIC_FILE = 0o700, 0o600, 0o644
# what a check may fail with: the resource's drift is then unknown, reported as an error
# (KeyError: a state.json missing what `fsp up` records)
CHECK_ERRORS = (ProvisioningError, TargetError, KeyMaterialError, KeycloakError, SQLAlchemyError, psycopg.Error, OSError,
                ValueError, KeyError)
ABSENT = "absent"


class _Tenant:
    """One tenant being checked: its files, its state and what was found so far."""

    def __init__(self, local: LocalTarget, spec: TenantSpec) -> None:
        self.local, self.spec = local, spec
        self.paths = local.home.tenant(spec.slug)
        self.state = read_json(self.paths.state) or {}
        lifecycle = lifecycle_of(self.state)
        self.found = TenantDrift(spec.slug, lifecycle.state.value if lifecycle else None)
        self.database = self.state.get("database", {})
        self.database_gone = False
        self.up = f"`fsp up {spec.slug}` repairs it"
        self.restore = (f"restore it from a backup (`fsp restore {spec.slug} --from FILE`); `fsp up` would start "
                        "an empty one")

    @property
    def postgres(self) -> bool:
        return self.database.get("backend") == "postgresql"

    @property
    def url(self) -> str:
        """The tenant's database URL with its password (from secrets), as `fsp up` builds it."""
        if self.postgres:
            return read_secret(self.paths.database_url_secret) or self.database["url"]
        return f"sqlite:///{self.paths.sqlite}"

    def differ(self, resource: str, field: str, declared: Any, live: Any, *, repaired: bool = True,
               action: str | None = None) -> None:
        self.found.differences.append(Difference(resource, field, declared, live, repaired, action or self.up))

    def mode(self, resource: str, path: Path, declared: int) -> None:
        """A file or directory that exists with another mode than declared."""
        try:
            live = path.stat().st_mode & 0o777
        except FileNotFoundError:
            return  # a missing file is its own resource's difference
        if live != declared:
            name = str(path.relative_to(self.paths.root)) if path.is_relative_to(self.paths.root) else path.name
            self.differ(resource, f"{name} mode", f"{declared:04o}", f"{live:04o}")


def check_tenant(local: LocalTarget, spec: TenantSpec) -> TenantDrift:
    """Every resource of the tenant compared with its declaration."""
    tenant = _Tenant(local, spec)
    checks: dict[str, Callable[[_Tenant], None]] = {
        "files": _files, "database": _database, "migrations": _migrations, "keys": _keys, "realm": _realm,
        "settings": _settings, "registration": _registration, "monitoring": _monitoring, "kubernetes": _kubernetes}
    for resource, check in checks.items():
        try:
            check(tenant)
        except CHECK_ERRORS as err:  # this resource's drift is unknown; the other checks still tell theirs
            message = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
            tenant.found.errors.append(Unchecked(resource, message))
    return tenant.found


def _files(t: _Tenant) -> None:
    """The modes `fsp up` gives: private folders 0700, secrets, keys, settings, state and database 0600."""
    for folder in (t.paths.root, t.paths.secrets, t.paths.keys):
        t.mode("files", folder, PRIVATE_DIR)
    files = [t.paths.settings, t.paths.state, *(p for folder in (t.paths.secrets, t.paths.keys) if folder.is_dir()
                                               for p in sorted(folder.iterdir()) if p.is_file())]
    if not t.postgres:
        files.append(t.paths.sqlite)
    for path in files:
        t.mode("files", path, PRIVATE_FILE)


def _database(t: _Tenant) -> None:
    if not t.postgres:
        if not t.paths.sqlite.is_file():
            t.database_gone = True
            t.differ("database", t.paths.sqlite.name, "present", ABSENT, repaired=False, action=t.restore)
        return
    admin_url = read_secret(t.paths.admin_url_secret)
    if admin_url is None:
        t.found.unchecked.append(Unchecked("database", "the PostgreSQL server's admin DSN is gone from secrets: "
                                                       f"`fsp up {t.spec.slug} --postgres DSN` records it again"))
        return
    stored = read_secret(t.paths.database_url_secret)
    if stored is None:
        t.differ("database", "secrets/database-url", "present", ABSENT, action=f"`fsp up {t.spec.slug}` sets a new "
                 "password and stores it")
    password = make_url(stored).password if stored else ""
    for field, declared, live in postgres_drift(admin_url, database=t.database["name"], role=t.database["role"],
                                                password=password or ""):
        if field == "database":
            t.database_gone = True
            t.differ("database", field, declared, live, repaired=False, action=t.restore)
        elif field == "role.password" and stored is None:
            continue  # said above: the secret itself is gone
        else:
            t.differ("database", field, declared, live)


def _migrations(t: _Tenant) -> None:
    if t.database_gone:
        t.found.unchecked.append(Unchecked("migrations", "the database is gone"))
        return
    head, current = migration_heads(), current_revision(t.url)
    if current == head:
        return
    newer = current - known_revisions()
    t.differ("migrations", "revision", ",".join(sorted(head)), ",".join(sorted(current)) or "none (empty schema)",
             repaired=not newer, action=None if not newer else
             "the database was migrated by a newer kit than this one: run that kit's `fsp up` (or `fsp upgrade`)")


def _keys(t: _Tenant) -> None:
    """Key files against the ids recorded beside them and in the database: a lost or replaced key the data
    depends on is never repaired by `fsp up` (it refuses); an operator restores it."""
    keys = t.paths.keys
    problems = [] if t.database_gone else _key_problems(t)
    restore = (f"restore the original from the key backup (`fsp restore {t.spec.slug} --from FILE`, or its keys/ "
               "folder); `fsp up` refuses to go on while data depends on it")
    for problem in problems:
        t.differ("keys", "fingerprint", "the key the tenant's data depends on", problem, repaired=False, action=restore)
    present, explained = key_ids(keys), " ".join(problems)
    for name, recorded in sorted(recorded_beside(keys).items()):
        if str(keys / name) in explained or present.get(name) == recorded:
            continue
        live = present.get(name, ABSENT)
        if name in REPLACEABLE:
            t.differ("keys", name, recorded, live, action=f"`fsp up {t.spec.slug}` makes or records it (tokens it "
                     "signed expire within minutes)")
        else:  # nothing depends on it yet, but a replaced key is an operator's decision, never a silent repair
            t.differ("keys", name, recorded, live, repaired=False,
                     action=f"restore the original from the key backup; if it is truly lost, `fsp up {t.spec.slug}` "
                            "makes and records a new one while no data depends on it")
    if (keys / EXCHANGE_PRIVATE_KEY).exists() != (keys / EXCHANGE_PUBLIC_KEY).exists():
        t.differ("keys", "exchange key pair", "both halves", "one half", repaired=False,
                 action="restore the missing half from the key backup (a new pair would change the key the ministry "
                        "trusts: `fsp keys rotate --signing` does that openly)")


def _key_problems(t: _Tenant) -> list[str]:
    with t.local._engine_at(t.url) as engine:
        # the ledger reads an unreachable database as "nothing recorded": that must not pass for "no problem"
        engine.connect().close()
        return key_problems(engine, t.paths.keys)


def _realm(t: _Tenant) -> None:
    if t.spec.sso.provider != "keycloak":
        t.found.not_applicable.append("realm")
        return
    user, password = os.environ.get(ADMIN_USER_ENV), os.environ.get(ADMIN_PASSWORD_ENV)
    if not user or not password:
        t.found.unchecked.append(Unchecked("realm", f"set {ADMIN_USER_ENV} and {ADMIN_PASSWORD_ENV} (a master-realm "
                                                    "administrator) to read the realm"))
        return
    server = str(t.spec.sso.keycloak_url).rstrip("/")
    admin = connect(server, user, password, t.spec.realm_name)
    with keycloak_errors(server):
        for field, declared, live in realm_drift(admin, t.spec):
            t.differ("realm", field, declared, live)


def _settings(t: _Tenant) -> None:
    """tenant.json field by field against what `fsp up` writes from the catalog."""
    declared = json.loads(json_bytes(_runtime_settings(t.spec, t.paths, t.url)))
    live = read_json(t.paths.settings)
    if live is None:
        t.differ("settings", t.paths.settings.name, "present", ABSENT)
        return
    for key in sorted(declared.keys() | live.keys()):
        if declared.get(key, ABSENT) != live.get(key, ABSENT):
            t.differ("settings", key, declared.get(key, ABSENT), live.get(key, ABSENT))


def _registration(t: _Tenant) -> None:
    """A province's exchange public key, registered with the ministry exactly when its exchange is enabled."""
    ministry = t.local.catalog.ministry
    if t.spec.kind != "province" or not t.local.is_provisioned(ministry):
        t.found.not_applicable.append("registration")
        return
    pem = t.local.home.tenant(ministry.slug).peers / f"{t.spec.slug}.pem"
    field = f"{ministry.slug}'s {pem.parent.name}/{pem.name}"
    if not t.spec.exchange.enabled:
        if pem.exists():
            t.differ("registration", field, "absent (exchange disabled in the catalog)", "registered")
        return
    if not pem.exists():
        t.differ("registration", field, "registered", ABSENT)
    elif pem.read_bytes() != exchange_public_key(t.paths.keys):
        t.differ("registration", field, "the province's exchange public key", "another key")
    else:
        t.mode("registration", pem, PUBLIC_FILE)


def _monitoring(t: _Tenant) -> None:
    """A served tenant's scrape target names `fsp serve`'s address; a tenant taken down has none."""
    path = t.local.home.scrape_targets / f"{t.spec.slug}.json"
    field = f"scrape target {path.name}"
    if not t.state.get("served"):
        if path.exists():
            t.differ("monitoring", field, "absent (taken down)", "present", repaired=False,
                     action=f"`fsp down {t.spec.slug}` removes it (`fsp up {t.spec.slug}` serves the tenant again)")
        return
    host, port = t.local.home.serve_address()
    declared = scrape_target(slug=t.spec.slug, code=t.spec.code, address=f"{host}:{port}")
    if not path.exists():
        t.differ("monitoring", field, "present", ABSENT)
        return
    try:
        live = json.loads(path.read_text())
    except ValueError:
        live = "unreadable"
    if live != declared:
        t.differ("monitoring", field, declared, live)
    else:
        t.mode("monitoring", path, PUBLIC_FILE)


def _kubernetes(t: _Tenant) -> None:
    """The tenant's Pulumi stack against a preview, where the engine is present; said plainly where it is not."""
    if shutil.which("pulumi") is None:
        t.found.unchecked.append(Unchecked("kubernetes", "not checked: pulumi engine absent"))
        return
    if not (t.local.home.root / "kubernetes" / t.spec.slug).is_dir():
        t.found.not_applicable.append("kubernetes")
        return
    postgres = os.environ.get("FSP_POSTGRES_URL")
    if not postgres:
        t.found.unchecked.append(Unchecked("kubernetes", "set FSP_POSTGRES_URL (the server's admin DSN) to preview "
                                                         "the stack"))
        return
    from provisioning_cli.targets.kubernetes import KubernetesTarget  # Pulumi's SDK: only when it is used

    kube = KubernetesTarget(t.local.home.root, t.local.catalog)
    for _, what, outcome in kube.preview(t.spec, postgres_url=postgres):
        if outcome != "unchanged":
            t.differ("kubernetes", what, "as declared", f"would be {outcome}",
                     action=f"`fsp up {t.spec.slug} --target kubernetes` repairs it")
