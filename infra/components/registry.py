"""A tenant's registry service: its Secrets, the migrations Job, the Deployment, Service and TLS Ingress."""
import base64
from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s

from infra.cluster import ClusterSettings
from infra.components.pods import container, http_probes, labels, pod_spec, resources, secret_env, secret_volume
from tenants import TenantSpec

PORT = 8000
KEYS_DIR = "/var/run/fsp/keys"
AUDIT_CHECKPOINT_FILE = "/tmp/fsp-audit-checkpoint.json"
APP_DIR = "/app"
SWEEP_INTERVAL_SECONDS = 300  # as `fsp serve`'s default


def registry_env(spec: TenantSpec, token_issuer: str, database_secret: pulumi.Input[str]) -> list[dict]:
    """The registry's settings (registry.config.Settings): identity in clear, the database URL by reference."""
    return [
        {"name": "FSP_TENANT_CODE", "value": spec.code},
        {"name": "FSP_TENANT_SLUG", "value": spec.slug},
        {"name": "FSP_ROLE", "value": spec.kind},
        {"name": "FSP_ENVIRONMENT", "value": "production"},
        {"name": "FSP_TOKEN_ISSUER", "value": token_issuer},
        {"name": "FSP_KEYS_DIR", "value": KEYS_DIR},
        # the keys are a read-only Secret; the pod's own emptyDir holds the audit checkpoint while the pod lives
        {"name": "FSP_AUDIT_CHECKPOINT_FILE", "value": AUDIT_CHECKPOINT_FILE},
        {"name": "FSP_DB_POOL_SIZE", "value": str(spec.database.pool_size)},
        # the realm's alias of the identity citizens sign in with (kc_idp_hint); empty: none configured
        *([{"name": "FSP_CITIZEN_IDENTITY_PROVIDER", "value": spec.sso.government_identity.alias}]
          if spec.sso.government_identity else []),
        secret_env("FSP_DATABASE_URL", database_secret, "url"),
    ]


class RegistrySecrets(pulumi.ComponentResource):
    """The database URLs and the key files as Kubernetes Secrets, their values secret in Pulumi state too."""

    database: pulumi.Output[str]
    keys: pulumi.Output[str]

    def __init__(self, name: str, namespace: pulumi.Input[str], *, database_url: pulumi.Input[str],
                 libpq_url: pulumi.Input[str], key_files: Mapping[str, pulumi.Input[bytes]],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fsp:tenant:RegistrySecrets", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        database = k8s.core.v1.Secret(f"{name}-database", opts=child, type="Opaque",
                                      metadata={"name": "registry-database", "namespace": namespace},
                                      string_data={"url": pulumi.Output.secret(database_url),
                                                   "libpq-url": pulumi.Output.secret(libpq_url)})
        encoded = {file: pulumi.Output.secret(pulumi.Output.from_input(data).apply(
            lambda raw: base64.b64encode(raw).decode())) for file, data in sorted(key_files.items())}
        keys = k8s.core.v1.Secret(f"{name}-keys", opts=child, type="Opaque", data=encoded,
                                  metadata={"name": "registry-keys", "namespace": namespace})
        self.database = database.metadata.name
        self.keys = keys.metadata.name
        self.register_outputs({"database": self.database, "keys": self.keys})


class RegistryService(pulumi.ComponentResource):
    """Migrations first (a Job the Deployment depends on), then the registry rolled out behind TLS."""

    host: pulumi.Output[str]
    service: pulumi.Output[str]

    def __init__(self, name: str, spec: TenantSpec, cluster: ClusterSettings, *, namespace: pulumi.Input[str],
                 service_account: pulumi.Input[str], secrets: RegistrySecrets, token_issuer: str,
                 depends_on: list[pulumi.Resource] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fsp:tenant:RegistryService", name, None, opts)
        env = registry_env(spec, token_issuer, secrets.database)
        # a province's sweeps (expired holds, overdue complaints, its own figures) run in each replica
        sweeps = [{"name": "FSP_SWEEP_INTERVAL_SECONDS", "value": str(SWEEP_INTERVAL_SECONDS)}] \
            if spec.kind == "province" else []
        keys_mount = [{"name": "keys", "mountPath": KEYS_DIR, "readOnly": True}]
        keys_volume = [secret_volume("keys", secrets.keys)]
        migrate_labels = labels(spec.slug, "migrations")
        migrations = k8s.batch.v1.Job(f"{name}-migrations", opts=pulumi.ResourceOptions(
            parent=self, depends_on=depends_on or []),
            metadata={"namespace": namespace, "labels": migrate_labels},
            spec={"backoffLimit": 2, "template": {"metadata": {"labels": migrate_labels}, "spec": pod_spec(
                [container("migrations", cluster.registry_image, command=["alembic", "-c", f"{APP_DIR}/alembic.ini"],
                           args=["upgrade", "head"], env=env, resources_=resources("100m", "256Mi"))],
                service_account=service_account, restart_policy="Never")}})
        web_labels = labels(spec.slug, "registry")
        deployment = k8s.apps.v1.Deployment(f"{name}-deployment", opts=pulumi.ResourceOptions(
            parent=self, depends_on=[migrations]),
            metadata={"name": "registry", "namespace": namespace, "labels": web_labels},
            spec={
                "replicas": cluster.registry_replicas,
                "selector": {"matchLabels": web_labels},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
                "template": {"metadata": {"labels": web_labels}, "spec": {
                    **pod_spec([container(
                        "registry", cluster.registry_image,
                        command=["uvicorn", "--factory", "portal.site:create_site"],
                        args=["--host", "0.0.0.0", "--port", str(PORT), "--proxy-headers"],
                        env=[*env, *sweeps], ports=[{"name": "http", "containerPort": PORT}], mounts=keys_mount,
                        resources_=resources("250m", "512Mi", cpu_limit="1", memory_limit="1Gi"),
                        probes=http_probes(PORT))],
                        service_account=service_account, volumes=keys_volume),
                    # replicas on different nodes, so one node failing leaves the service up
                    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                                                   "whenUnsatisfiable": "ScheduleAnyway",
                                                   "labelSelector": {"matchLabels": web_labels}}],
                }},
            })
        service = k8s.core.v1.Service(f"{name}-service", opts=pulumi.ResourceOptions(parent=self),
                                      metadata={"name": "registry", "namespace": namespace, "labels": web_labels},
                                      spec={"type": "ClusterIP", "selector": web_labels,
                                            "ports": [{"name": "http", "port": PORT, "targetPort": "http"}]})
        self.host = pulumi.Output.from_input(f"{spec.slug}.{cluster.base_domain}")
        k8s.networking.v1.Ingress(f"{name}-ingress", opts=pulumi.ResourceOptions(parent=self, depends_on=[deployment]),
                                  metadata={"name": "registry", "namespace": namespace, "labels": web_labels,
                                            "annotations": {
                                                "cert-manager.io/cluster-issuer": cluster.tls_cluster_issuer,
                                                "nginx.ingress.kubernetes.io/ssl-redirect": "true"}},
                                  spec={"ingressClassName": cluster.ingress_class,
                                        "tls": [{"hosts": [self.host], "secretName": "registry-tls"}],
                                        "rules": [{"host": self.host, "http": {"paths": [{
                                            "path": "/", "pathType": "Prefix",
                                            "backend": {"service": {"name": service.metadata.name,
                                                                    "port": {"number": PORT}}}}]}}]})
        self.service = service.metadata.name
        self.register_outputs({"host": self.host, "service": self.service})
