"""The registry's companions: nightly database backups and the exchange processes (worker or ministry hub)."""
import pulumi
import pulumi_kubernetes as k8s

from infra.cluster import ClusterSettings
from infra.components.pods import container, http_probes, labels, pod_spec, resources, secret_env, secret_volume
from infra.components.registry import KEYS_DIR, PORT, registry_env
from tenants import TenantSpec


class Backup(pulumi.ComponentResource):
    """pg_dump of the tenant's database every night (Asia/Shanghai) onto its own volume."""

    def __init__(self, name: str, spec: TenantSpec, cluster: ClusterSettings, *, namespace: pulumi.Input[str],
                 service_account: pulumi.Input[str], database_secret: pulumi.Input[str],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fsp:tenant:Backup", name, None, opts)
        backup_labels = labels(spec.slug, "backup")
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-volume", opts=pulumi.ResourceOptions(parent=self),
            metadata={"name": "backups", "namespace": namespace, "labels": backup_labels},
            spec={"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "50Gi"}},
                  **({"storageClassName": cluster.storage_class} if cluster.storage_class else {})})
        # the URL comes from the Secret as $PGURL; the shell only expands it, the manifest never holds it
        dump = (f'set -eu; f="/backups/{spec.slug}-$(date -u +%Y%m%dT%H%M%SZ).dump"; '
                'pg_dump --format=custom --no-owner --file="$f" "$PGURL"; '
                f'find /backups -name "{spec.slug}-*.dump" -mtime +{spec.audit_retention_days} -delete')
        k8s.batch.v1.CronJob(f"{name}-cronjob", opts=pulumi.ResourceOptions(parent=self, depends_on=[claim]),
                             metadata={"name": "backup", "namespace": namespace, "labels": backup_labels},
                             spec={"schedule": "30 2 * * *", "timeZone": "Asia/Shanghai",
                                   "concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 3,
                                   "failedJobsHistoryLimit": 3,
                                   "jobTemplate": {"spec": {"backoffLimit": 1, "template": {
                                       "metadata": {"labels": backup_labels},
                                       "spec": pod_spec([container(
                                           "pg-dump", cluster.backup_image, command=["/bin/sh", "-c"], args=[dump],
                                           env=[secret_env("PGURL", database_secret, "libpq-url")],
                                           mounts=[{"name": "backups", "mountPath": "/backups"}],
                                           resources_=resources("100m", "256Mi", cpu_limit="500m"))],
                                           service_account=service_account, restart_policy="OnFailure",
                                           volumes=[{"name": "backups",
                                                     "persistentVolumeClaim": {"claimName": "backups"}}])}}}})
        self.register_outputs({})


class ExchangeProcess(pulumi.ComponentResource):
    """A province's exchange worker (ships outbox batches to the ministry) or the ministry's exchange hub
    (receives them); same image and settings as the registry, another entry point."""

    def __init__(self, name: str, spec: TenantSpec, cluster: ClusterSettings, *, component: str,
                 namespace: pulumi.Input[str], service_account: pulumi.Input[str], database_secret: pulumi.Input[str],
                 keys_secret: pulumi.Input[str], token_issuer: str, extra_env: list[dict] | None = None,
                 extra_volumes: list[tuple[dict, dict]] | None = None, replicas: int = 1,
                 depends_on: list[pulumi.Resource] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fsp:tenant:ExchangeProcess", name, None, opts)
        own_labels = labels(spec.slug, component)
        volumes = [secret_volume("keys", keys_secret), *(v for _, v in extra_volumes or [])]
        mounts = [{"name": "keys", "mountPath": KEYS_DIR, "readOnly": True}, *(m for m, _ in extra_volumes or [])]
        env = [*registry_env(spec, token_issuer, database_secret), *(extra_env or [])]
        k8s.apps.v1.Deployment(f"{name}-deployment", opts=pulumi.ResourceOptions(parent=self,
                                                                                 depends_on=depends_on or []),
                               metadata={"name": component, "namespace": namespace, "labels": own_labels},
                               spec={"replicas": replicas, "selector": {"matchLabels": own_labels},
                                     "template": {"metadata": {"labels": own_labels}, "spec": pod_spec([container(
                                         component, cluster.registry_image,
                                         command=["python", "-m", "registry.exchange", component],
                                         env=env, ports=[{"name": "http", "containerPort": PORT}], mounts=mounts,
                                         resources_=resources("100m", "256Mi", cpu_limit="500m"),
                                         probes=http_probes(PORT))],
                                         service_account=service_account, volumes=volumes)}})
        # the hub's Service receives the provinces' batches; the worker's is where its Prometheus scrapes it (the
        # network policies let nothing else in)
        k8s.core.v1.Service(f"{name}-service", opts=pulumi.ResourceOptions(parent=self),
                            metadata={"name": component, "namespace": namespace, "labels": own_labels},
                            spec={"type": "ClusterIP", "selector": own_labels,
                                  "ports": [{"name": "http", "port": PORT, "targetPort": "http"}]})
        self.register_outputs({})
