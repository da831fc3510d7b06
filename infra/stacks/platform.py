"""TenantStack (a province) and MinistryStack (the national platform), each one Pulumi component tree."""
import pulumi
import pulumi_kubernetes as k8s

from infra.cluster import namespace_of
from infra.components.monitoring import alertmanager, prometheus, with_alertmanager
from infra.components.namespace import TenantNamespace
from infra.components.network import NetworkPolicies, ministry_allows, province_allows
from infra.components.pods import labels
from infra.components.registry import RegistrySecrets, RegistryService
from infra.components.workers import Backup, ExchangeProcess
from infra.providers.database import PostgresDatabase
from infra.providers.realm import KeycloakRealm
from infra.providers.registration import ExchangeRegistration
from infra.stacks.inputs import StackInputs

PEERS_DIR = "/etc/fsp/exchange-peers"


class _PlatformStack(pulumi.ComponentResource):
    """What every tenant has: namespace, network policies, database, realm, secrets, registry, backups and its
    own Prometheus."""

    namespace: pulumi.Output[str]
    host: pulumi.Output[str]

    def __init__(self, type_: str, name: str, inputs: StackInputs, *, cpu: str, memory: str,
                 opts: pulumi.ResourceOptions | None) -> None:
        super().__init__(type_, name, None, opts)
        spec, cluster = inputs.spec, inputs.cluster
        child = pulumi.ResourceOptions(parent=self)
        self.inputs = inputs
        self.ns = TenantNamespace(f"{name}-namespace", spec, namespace_of(spec.slug), cpu=cpu, memory=memory,
                                  opts=child)
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[self.ns])
        allows = ministry_allows(cluster) if spec.kind == "ministry" else province_allows(cluster, "ministry")
        NetworkPolicies(f"{name}-network", self.ns.name, allows, opts=in_ns)
        # the data outlives the stack: `fsp down` keeps it, only an explicit purge drops it
        self.database = PostgresDatabase(f"{name}-database", admin_url=inputs.postgres_admin_url,
                                         database=inputs.database_name, role=inputs.database_name,
                                         password=inputs.database_password,
                                         opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True))
        self.realm = KeycloakRealm(f"{name}-realm", spec=spec, server_url=inputs.keycloak_admin_url,
                                   admin_username=inputs.keycloak_admin_username,
                                   admin_password=inputs.keycloak_admin_password,
                                   identity_secret=inputs.identity_secret,
                                   opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True))
        self.secrets = RegistrySecrets(f"{name}-secrets", self.ns.name, database_url=inputs.database_url,
                                       libpq_url=inputs.libpq_url, key_files=inputs.key_files, opts=in_ns)
        where = {"namespace": self.ns.name, "service_account": self.ns.service_account}
        self.registry = RegistryService(f"{name}-registry", spec, cluster, secrets=self.secrets,
                                        token_issuer=inputs.token_issuer,
                                        depends_on=[self.ns, self.database, self.realm], opts=child, **where)
        Backup(f"{name}-backup", spec, cluster, database_secret=self.secrets.database, opts=in_ns, **where)
        prometheus(f"{name}-prometheus", spec, cluster, inputs.prometheus_files, opts=in_ns, **where)
        self.where = where
        self.namespace = self.ns.name
        self.host = self.registry.host

    def _exchange(self, component: str, **extra) -> ExchangeProcess:
        return ExchangeProcess(f"{self._name}-{component}", self.inputs.spec, self.inputs.cluster,
                               component=component, database_secret=self.secrets.database,
                               keys_secret=self.secrets.keys, token_issuer=self.inputs.token_issuer,
                               depends_on=[self.registry], opts=pulumi.ResourceOptions(parent=self),
                               **self.where, **extra)

    def _finish(self) -> None:
        self.register_outputs({"namespace": self.namespace, "host": self.host,
                               "database": self.database.database, "realm": self.realm.realm})


class TenantStack(_PlatformStack):
    """A province: its platform plus the exchange worker and its registration with the ministry."""

    def __init__(self, name: str, inputs: StackInputs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fsp:stack:Tenant", name, inputs, cpu="8", memory="16Gi", opts=opts)
        spec = inputs.spec
        if spec.exchange.enabled:
            self._exchange("exchange-worker", extra_env=[
                {"name": "FSP_EXCHANGE_URL", "value": f"http://exchange-hub.{namespace_of('ministry')}.svc:8000"},
                {"name": "FSP_EXCHANGE_BATCH_SIZE", "value": str(spec.exchange.batch_size)},
                {"name": "FSP_EXCHANGE_INTERVAL_SECONDS", "value": str(spec.exchange.interval_seconds)}])
            ExchangeRegistration(f"{name}-registration", peers_dir=inputs.peers_dir, slug=spec.slug,
                                 public_pem=inputs.exchange_public_pem, opts=pulumi.ResourceOptions(parent=self))
        self._finish()


class MinistryStack(_PlatformStack):
    """The national platform: its registry (role ministry), the exchange hub trusting the registered provinces,
    a fleet Prometheus federating every tenant's Prometheus, and Alertmanager."""

    def __init__(self, name: str, inputs: StackInputs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fsp:stack:Ministry", name, inputs, cpu="16", memory="32Gi", opts=opts)
        spec = inputs.spec
        peers = k8s.core.v1.ConfigMap(f"{name}-exchange-peers", opts=pulumi.ResourceOptions(
            parent=self, depends_on=[self.ns]),
            metadata={"name": "exchange-peers", "namespace": self.ns.name,
                      "labels": labels(spec.slug, "exchange-hub")},
            data={f"{slug}.pem": pem for slug, pem in sorted(inputs.peers.items())})
        self._exchange("exchange-hub", replicas=2,
                       extra_env=[{"name": "FSP_EXCHANGE_PEERS_DIR", "value": PEERS_DIR}],
                       extra_volumes=[({"name": "peers", "mountPath": PEERS_DIR, "readOnly": True},
                                       {"name": "peers", "configMap": {"name": peers.metadata.name}})])
        where = {**self.where, "opts": pulumi.ResourceOptions(parent=self, depends_on=[self.ns])}
        if "prometheus.yml" not in inputs.fleet_files:
            raise ValueError("the ministry's stack needs the fleet Prometheus files (fleet_files)")
        fleet = {**inputs.fleet_files,
                 "prometheus.yml": with_alertmanager(inputs.fleet_files["prometheus.yml"], namespace_of(spec.slug))}
        prometheus(f"{name}-fleet-prometheus", spec, inputs.cluster, fleet, component="fleet-prometheus", **where)
        if not inputs.alertmanager_yml:
            raise ValueError("the ministry's stack needs the Alertmanager configuration (alertmanager_yml)")
        alertmanager(f"{name}-alertmanager", spec, inputs.cluster, inputs.alertmanager_yml, **where)
        self._finish()


def program(inputs: StackInputs):
    """The Pulumi program for one tenant: its stack, and what `fsp` prints afterwards."""
    def run() -> None:
        stack_class = MinistryStack if inputs.spec.kind == "ministry" else TenantStack
        stack = stack_class(inputs.spec.slug, inputs)
        pulumi.export("namespace", stack.namespace)
        pulumi.export("url", stack.host.apply(lambda host: f"https://{host}/api/v1"))
        pulumi.export("database", stack.database.database)
        pulumi.export("realm", stack.realm.realm)
    return run
