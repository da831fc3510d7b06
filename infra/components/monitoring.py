"""Prometheus for each tenant (its registry scraped, `tenant:*` recorded, everything labelled with the province)
and, at the ministry, the fleet Prometheus federating every tenant's and alerting through Alertmanager.

The configuration files are rendered by the monitoring package (the same files as the local target's); this
module only places them in ConfigMaps and adds what exists only in the cluster, such as Alertmanager's address.
"""
from collections.abc import Mapping

import pulumi
import pulumi_kubernetes as k8s
import yaml

from infra.cluster import ClusterSettings
from infra.components.pods import container, labels, pod_spec, resources
from tenants import TenantSpec

PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
CONFIG_DIR = "/etc/config"


def with_alertmanager(prometheus_yml: str, namespace: str) -> str:
    """The fleet configuration, sending its alerts to the Alertmanager beside it."""
    config = yaml.safe_load(prometheus_yml)
    config["alerting"] = {"alertmanagers": [
        {"static_configs": [{"targets": [f"alertmanager.{namespace}.svc:{ALERTMANAGER_PORT}"]}]}]}
    return yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def _probes(port: int) -> dict:
    return {"livenessProbe": {"httpGet": {"path": "/-/healthy", "port": port}, "periodSeconds": 15},
            "readinessProbe": {"httpGet": {"path": "/-/ready", "port": port}, "periodSeconds": 10}}


def _key(path: str) -> str:
    # ConfigMap keys cannot hold "/": rules/tenant.rules.yml is stored as rules_tenant.rules.yml
    return path.replace("/", "_")


class ConfiguredServer(pulumi.ComponentResource):
    """A ConfigMap of files, a data volume, a single-replica Deployment reading both, and its Service."""

    def __init__(self, name: str, spec: TenantSpec, *, component: str, image: str, files: Mapping[str, str],
                 args: list[str], port: int, namespace: pulumi.Input[str], service_account: pulumi.Input[str],
                 storage: str, cluster: ClusterSettings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fsp:tenant:ConfiguredServer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        own = labels(spec.slug, component)
        config_map = k8s.core.v1.ConfigMap(f"{name}-config", opts=child,
                                           metadata={"name": f"{component}-config", "namespace": namespace,
                                                     "labels": own},
                                           data={_key(path): text for path, text in sorted(files.items())})
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-data", opts=child, metadata={"name": f"{component}-data", "namespace": namespace, "labels": own},
            spec={"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}},
                  **({"storageClassName": cluster.storage_class} if cluster.storage_class else {})})
        config_volume = {"name": "config", "configMap": {
            "name": config_map.metadata.name,
            "items": [{"key": _key(path), "path": path} for path in sorted(files)]}}
        k8s.apps.v1.Deployment(f"{name}-deployment", opts=pulumi.ResourceOptions(parent=self,
                                                                                 depends_on=[config_map, claim]),
                               metadata={"name": component, "namespace": namespace, "labels": own},
                               spec={"replicas": 1, "selector": {"matchLabels": own},
                                     "strategy": {"type": "Recreate"},
                                     "template": {"metadata": {"labels": own}, "spec": pod_spec(
                                         [container(component, image, args=args,
                                                    ports=[{"name": "http", "containerPort": port}],
                                                    mounts=[{"name": "config", "mountPath": CONFIG_DIR,
                                                             "readOnly": True},
                                                            {"name": "data", "mountPath": "/data"}],
                                                    resources_=resources("200m", "512Mi", cpu_limit="1",
                                                                         memory_limit="2Gi"),
                                                    probes=_probes(port))],
                                         service_account=service_account,
                                         volumes=[config_volume, {"name": "data", "persistentVolumeClaim": {
                                             "claimName": claim.metadata.name}}])}})
        k8s.core.v1.Service(f"{name}-service", opts=child,
                            metadata={"name": component, "namespace": namespace, "labels": own},
                            spec={"type": "ClusterIP", "selector": own,
                                  "ports": [{"name": "http", "port": port, "targetPort": "http"}]})
        self.register_outputs({})


def prometheus(name: str, spec: TenantSpec, cluster: ClusterSettings, files: Mapping[str, str], *,
               component: str = "prometheus", **where) -> ConfiguredServer:
    """Prometheus reading `files` (prometheus.yml and its rules), keeping the tenant's retention."""
    if "prometheus.yml" not in files:
        raise ValueError(f"{spec.slug}: the Prometheus files must include prometheus.yml")
    return ConfiguredServer(name, spec, component=component, image=cluster.prometheus_image, files=files,
                            port=PROMETHEUS_PORT, storage="20Gi", cluster=cluster,
                            args=[f"--config.file={CONFIG_DIR}/prometheus.yml", "--storage.tsdb.path=/data",
                                  f"--storage.tsdb.retention.time={spec.monitoring.retention_days}d",
                                  f"--web.listen-address=:{PROMETHEUS_PORT}"], **where)


def alertmanager(name: str, spec: TenantSpec, cluster: ClusterSettings, config: str, **where) -> ConfiguredServer:
    """The fleet's Alertmanager, reading `config` (rendered by the monitoring package, as locally)."""
    return ConfiguredServer(name, spec, component="alertmanager", image=cluster.alertmanager_image,
                            files={"alertmanager.yml": config},
                            port=ALERTMANAGER_PORT, storage="2Gi", cluster=cluster,
                            args=[f"--config.file={CONFIG_DIR}/alertmanager.yml", "--storage.path=/data",
                                  f"--web.listen-address=:{ALERTMANAGER_PORT}"], **where)
