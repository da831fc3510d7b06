"""The Kubernetes target: each tenant one Pulumi stack (infra.stacks), run through the Automation API.

    $FSP_HOME/pulumi/                              file backend holding every stack's state (--backend-url)
    $FSP_HOME/pulumi-passphrase                    0600, encrypts the stacks' secrets unless
                                                   PULUMI_CONFIG_PASSPHRASE is set
    $FSP_HOME/kubernetes/<slug>/keys/              0700, the tenant's key files (0600), given to its Secret
    $FSP_HOME/kubernetes/<slug>/secrets/           0700: database-password
    $FSP_HOME/kubernetes/ministry/exchange-peers/  provinces' exchange public keys the ministry trusts

`plan` needs none of this: it runs the program under Pulumi's mock runtime with throwaway key material.
"""
import os
import secrets as random_secrets
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import ValidationError

from infra import policies as policies_package
from infra.cluster import ClusterSettings, namespace_of
from infra.components.monitoring import PROMETHEUS_PORT
from infra.components.registry import PORT as REGISTRY_PORT
from infra.components.workers import PORT as EXCHANGE_PORT
from infra.ensure.database import drop_postgres_database, mask_url
from infra.ensure.files import ensure_file, ensure_private_dir, remove_path
from infra.ensure.keys import ensure_tenant_keys
from infra.ensure.realm import government_identity_secret
from infra.plan import plan as offline_plan
from infra.stacks.inputs import StackInputs, database_name
from infra.stacks.platform import program
from monitoring.alerting import alertmanager_text
from monitoring.render import RegistryTarget, RenderOptions, fleet_files, tenant_files
from provisioning_cli.targets import TargetError
from tenants import Catalog, TenantSpec

PROJECT = "fsp"
POLICY_PACK = Path(policies_package.__file__).resolve().parent
INSTALL_HINT = ("the pulumi CLI is not installed: install it with `curl -fsSL https://get.pulumi.com | sh` "
                "(see https://www.pulumi.com/docs/install/) and put it on PATH")
# shown by `fsp plan` when no --postgres is given: a server name that can never resolve
EXAMPLE_ADMIN_URL = "postgresql+psycopg://fsp-admin@postgres.example.invalid:5432/postgres"
# Pulumi's operation names → the outcomes every fsp command reports
OUTCOMES = {"create": "created", "update": "updated", "replace": "updated", "same": "unchanged",
            "delete": "deleted", "create-replacement": "updated", "delete-replaced": "updated"}

Result = tuple[str, str, str]


def cluster_settings() -> ClusterSettings:
    """The cluster's settings from FSP_K8S_*; a bad value is a TargetError naming the variable."""
    try:
        return ClusterSettings()
    except ValidationError as err:
        problem = err.errors()[0]
        raise TargetError(f"FSP_K8S_{str(problem['loc'][0]).upper()}: {problem['msg']}") from None


def monitoring_files(spec: TenantSpec, catalog: Catalog) -> dict[str, dict[str, str] | str]:
    """The tenant's Prometheus files and, for the ministry, the fleet's and Alertmanager's: the monitoring package's
    rendering, with
    the in-cluster addresses of the registry and of every tenant's Prometheus."""
    namespace = namespace_of(spec.slug)
    exchange = "exchange-hub" if spec.kind == "ministry" else "exchange-worker" if spec.exchange.enabled else None
    registry = RegistryTarget(address=f"registry.{namespace}.svc:{REGISTRY_PORT}",
                              exchange_address=f"{exchange}.{namespace}.svc:{EXCHANGE_PORT}" if exchange else None)
    files = {"prometheus_files": tenant_files(spec, registry, RenderOptions())}
    if spec.kind == "ministry":
        sources = [(t, f"prometheus.{namespace_of(t.slug)}.svc:{PROMETHEUS_PORT}") for t in catalog.tenants]
        files["fleet_files"] = fleet_files(sources, RenderOptions())
        files["alertmanager_yml"] = alertmanager_text()  # the same routing as `fsp monitoring up`'s
    return files


class KubernetesTarget:
    """Tenants as Pulumi stacks on a Kubernetes cluster; control-plane material under `home`."""

    def __init__(self, home: Path, catalog: Catalog, *, backend_url: str | None = None,
                 cluster: ClusterSettings | None = None) -> None:
        self.home = Path(home).resolve()
        self.catalog = catalog
        self.backend_url = backend_url or f"file://{self.home / 'pulumi'}"
        self._cluster = cluster

    @property
    def cluster(self) -> ClusterSettings:
        if self._cluster is None:
            self._cluster = cluster_settings()
        return self._cluster

    def peers_dir(self) -> Path:
        return self.home / "kubernetes" / self.catalog.ministry.slug / "exchange-peers"

    # --- offline -------------------------------------------------------------------------------------------------

    def plan(self, spec: TenantSpec, *, postgres_url: str | None = None) -> dict:
        """What the stack declares and the policy verdicts, from the mock runtime; writes nothing."""
        with tempfile.TemporaryDirectory(prefix="fsp-plan-") as scratch:
            keys = Path(scratch) / "keys"
            ensure_tenant_keys(keys, fleet_keys=Path(scratch) / "fleet" if spec.kind == "province" else None)
            inputs = self._inputs(spec, admin_url=postgres_url or EXAMPLE_ADMIN_URL,
                                  password=random_secrets.token_urlsafe(32), keys_dir=keys,
                                  keycloak=("admin", random_secrets.token_urlsafe(16)))
            return offline_plan(program(inputs), stack=spec.slug)

    # --- through the Pulumi engine -------------------------------------------------------------------------------

    def preview(self, spec: TenantSpec, *, postgres_url: str | None) -> list[Result]:
        """What `up` would change, checked by the policy pack; changes nothing."""
        with self._stack(spec, postgres_url) as stack:
            result = stack.preview(policy_packs=[str(POLICY_PACK)], on_output=_quiet)
        return _results(spec, result.change_summary)

    def up(self, spec: TenantSpec, *, postgres_url: str | None) -> list[Result]:
        """Converge the tenant's stack (policy pack enforced); a re-run reports everything unchanged."""
        with self._stack(spec, postgres_url) as stack:
            result = stack.up(policy_packs=[str(POLICY_PACK)], on_output=_quiet)
        return _results(spec, result.summary.resource_changes or {})

    def down(self, spec: TenantSpec, *, postgres_url: str | None, purge: bool = False) -> list[Result]:
        """Destroy the stack's workloads; the database and realm are kept unless `purge`."""
        with self._stack(spec, postgres_url, existing=True) as stack:
            result = stack.destroy(on_output=_quiet)
            results = _results(spec, result.summary.resource_changes or {})
            if purge:
                stack.workspace.remove_stack(spec.slug)
        if purge:
            name = database_name(spec)
            results.append((spec.slug, "database", drop_postgres_database(self._admin_url(postgres_url),
                                                                          database=name, role=name)))
            results.append((spec.slug, "keys", remove_path(self.home / "kubernetes" / spec.slug)))
        return results

    @contextmanager
    def _stack(self, spec: TenantSpec, postgres_url: str | None, *, existing: bool = False) -> Iterator:
        """The tenant's stack, selected or created, with its program; every precondition checked before any write."""
        if shutil.which("pulumi") is None:
            raise TargetError(INSTALL_HINT)
        root = self.home / "kubernetes" / spec.slug
        if existing and not root.is_dir():
            raise TargetError(f"{spec.slug} has no Kubernetes stack here: `fsp up {spec.slug} --target kubernetes`")
        unset = self.cluster.unset_images()
        if unset:
            raise TargetError(f"set {', '.join(unset)} to digest-pinned images (name@sha256:<64 hex>)")
        admin_url = self._admin_url(postgres_url)
        keycloak = _keycloak_admin()
        from pulumi import automation as auto

        for path in (self.home, root.parent, root, root / "secrets"):
            ensure_private_dir(path)
        ensure_tenant_keys(root / "keys", fleet_keys=self.home / "kubernetes" / "fleet-keys"
                           if spec.kind == "province" else None)
        inputs = self._inputs(spec, admin_url=admin_url, password=self._password(root), keys_dir=root / "keys",
                              keycloak=keycloak)
        if self.backend_url.startswith("file://"):
            ensure_private_dir(Path(self.backend_url.removeprefix("file://")))
        options = auto.LocalWorkspaceOptions(
            project_settings=auto.ProjectSettings(name=PROJECT, runtime="python",
                                                  backend=auto.ProjectBackend(url=self.backend_url)),
            secrets_provider="passphrase",
            env_vars={"PULUMI_CONFIG_PASSPHRASE": self._passphrase(), "PULUMI_SKIP_UPDATE_CHECK": "true",
                      # the dynamic providers and the policy pack run in this interpreter, where the kit is installed
                      "PULUMI_PYTHON_CMD": sys.executable})
        try:
            yield auto.create_or_select_stack(stack_name=spec.slug, project_name=PROJECT, program=program(inputs),
                                              opts=options)
        except auto.CommandError as err:
            raise TargetError(f"pulumi failed for {spec.slug}: {_last_line(err)}") from None

    # --- inputs and the control plane's secrets ------------------------------------------------------------------

    def _inputs(self, spec: TenantSpec, *, admin_url: str, password: str, keys_dir: Path,
                keycloak: tuple[str, str]) -> StackInputs:
        peers = self.peers_dir()
        known = {p.stem: p.read_text() for p in sorted(peers.glob("*.pem"))} if spec.kind == "ministry" else {}
        return StackInputs(spec=spec, cluster=self.cluster, postgres_admin_url=admin_url, database_password=password,
                           key_files={p.name: p.read_bytes() for p in sorted(keys_dir.iterdir()) if p.is_file()},
                           keycloak_admin_username=keycloak[0], keycloak_admin_password=keycloak[1],
                           identity_secret=government_identity_secret(),
                           peers_dir=str(peers), provinces=tuple(self.catalog.provinces), peers=known,
                           **monitoring_files(spec, self.catalog))

    def _admin_url(self, postgres_url: str | None) -> str:
        if not postgres_url:
            raise TargetError("the kubernetes target needs the PostgreSQL server's admin DSN: pass --postgres DSN "
                              "(or set FSP_POSTGRES_URL)")
        if not postgres_url.startswith("postgresql"):
            raise TargetError(f"--postgres must be a postgresql:// DSN, not {mask_url(postgres_url)}")
        return postgres_url

    def _password(self, root: Path) -> str:
        path = root / "secrets" / "database-password"
        if path.exists():
            return path.read_text().strip()
        password = random_secrets.token_urlsafe(32)
        ensure_file(path, password.encode())
        return password

    def _passphrase(self) -> str:
        """PULUMI_CONFIG_PASSPHRASE, else one generated once and kept 0600 under $FSP_HOME."""
        given = os.environ.get("PULUMI_CONFIG_PASSPHRASE")
        if given:
            return given
        path = self.home / "pulumi-passphrase"
        if not path.exists():
            ensure_file(path, random_secrets.token_urlsafe(32).encode())
        return path.read_text().strip()


def _keycloak_admin() -> tuple[str, str]:
    password = os.environ.get("FSP_KEYCLOAK_ADMIN_PASSWORD")
    if not password:
        raise TargetError("set FSP_KEYCLOAK_ADMIN_PASSWORD (and FSP_KEYCLOAK_ADMIN_USER, default admin): "
                          "the stack converges the tenant's Keycloak realm")
    return os.environ.get("FSP_KEYCLOAK_ADMIN_USER", "admin"), password


def _results(spec: TenantSpec, changes: dict[str, int]) -> list[Result]:
    """One row per kind of change: (tenant, "<n> resources", outcome)."""
    merged: dict[str, int] = {}
    for op, count in changes.items():
        outcome = OUTCOMES.get(op, op)
        merged[outcome] = merged.get(outcome, 0) + count
    return [(spec.slug, f"{count} resource{'s' if count != 1 else ''}", outcome) for outcome, count in merged.items()]


def _last_line(err: Exception) -> str:
    lines = [line.strip().removeprefix("stderr:").strip() for line in str(err).splitlines()]
    lines = [line for line in lines if line]
    return lines[-1] if lines else type(err).__name__


def _quiet(_line: str) -> None:
    """The engine's progress is not echoed: fsp prints its own summary."""

