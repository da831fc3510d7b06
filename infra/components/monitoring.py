"""Prometheus for a province (scrapes its services, labelled with the province) and for the ministry
(federates every province's tenant:* series, alerts through Alertmanager)."""
from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s
import yaml

from infra.cluster import ClusterSettings, namespace_of
from infra.components.pods import container, labels, pod_spec, resources
from infra.components.registry import PORT
from tenants import TenantSpec

PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
# what the ministry pulls from each province: the aggregated tenant:* recording rules, not raw series
FEDERATE_MATCH = '{__name__=~"tenant:.*"}'


def province_config(spec: TenantSpec, namespace: str) -> dict:
    """The provincial Prometheus: every series carries `province`, so the fleet view can tell them apart."""
    return {
        "global": {"scrape_interval": f"{spec.monitoring.scrape_interval_seconds}s",
                   "external_labels": {"province": spec.slug, "code": spec.code}},
        "scrape_configs": [{
            "job_name": "fsp-registry",
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [f"registry.{namespace}.svc:{PORT}"],
                                "labels": {"province": spec.slug, "code": spec.code}}],
        }],
    }


def fleet_config(spec: TenantSpec, provinces: Sequence[TenantSpec]) -> dict:
    """The ministry's Prometheus: its own services, then each province federated with honor_labels."""
    own = namespace_of(spec.slug)
    return {
        "global": {"scrape_interval": f"{spec.monitoring.scrape_interval_seconds}s",
                   "external_labels": {"province": spec.slug, "code": spec.code}},
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"alertmanager.{own}.svc:{ALERTMANAGER_PORT}"]}]}]},
        "scrape_configs": [
            {"job_name": "fsp-ministry", "static_configs": [
                {"targets": [f"registry.{own}.svc:{PORT}", f"exchange-hub.{own}.svc:{PORT}"],
                 "labels": {"province": spec.slug, "code": spec.code}}]},
            {"job_name": "federate", "honor_labels": True, "metrics_path": "/federate",
             "params": {"match[]": [FEDERATE_MATCH]},
             "static_configs": [{"targets": [f"prometheus.{namespace_of(p.slug)}.svc:{PROMETHEUS_PORT}"],
                                 "labels": {"province": p.slug, "code": p.code}} for p in provinces]},
        ],
    }


def alertmanager_config() -> dict:
    """Alerts grouped by province; the receiver's integrations are the operators' to add."""
    return {"route": {"receiver": "fleet-sre", "group_by": ["alertname", "province"],
                      "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"},
            "receivers": [{"name": "fleet-sre"}]}


def _probes(port: int) -> dict:
    return {"livenessProbe": {"httpGet": {"path": "/-/healthy", "port": port}, "periodSeconds": 15},
            "readinessProbe": {"httpGet": {"path": "/-/ready", "port": port}, "periodSeconds": 10}}


class ConfiguredServer(pulumi.ComponentResource):
    """A ConfigMap, a data volume, a single-replica Deployment reading both, and its Service."""

    def __init__(self, name: str, spec: TenantSpec, *, component: str, image: str, config_file: str,
                 config: dict, args: list[str], port: int, namespace: pulumi.Input[str],
                 service_account: pulumi.Input[str], storage: str, cluster: ClusterSettings,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fsp:tenant:ConfiguredServer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        own = labels(spec.slug, component)
        config_map = k8s.core.v1.ConfigMap(f"{name}-config", opts=child,
                                           metadata={"name": f"{component}-config", "namespace": namespace,
                                                     "labels": own},
                                           data={config_file: yaml.safe_dump(config, sort_keys=False)})
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-data", opts=child, metadata={"name": f"{component}-data", "namespace": namespace, "labels": own},
            spec={"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": storage}},
                  **({"storageClassName": cluster.storage_class} if cluster.storage_class else {})})
        k8s.apps.v1.Deployment(f"{name}-deployment", opts=pulumi.ResourceOptions(parent=self,
                                                                                 depends_on=[config_map, claim]),
                               metadata={"name": component, "namespace": namespace, "labels": own},
                               spec={"replicas": 1, "selector": {"matchLabels": own},
                                     "strategy": {"type": "Recreate"},
                                     "template": {"metadata": {"labels": own}, "spec": pod_spec(
                                         [container(component, image, args=args,
                                                    ports=[{"name": "http", "containerPort": port}],
                                                    mounts=[{"name": "config", "mountPath": "/etc/config",
                                                             "readOnly": True},
                                                            {"name": "data", "mountPath": "/data"}],
                                                    resources_=resources("200m", "512Mi", cpu_limit="1",
                                                                         memory_limit="2Gi"),
                                                    probes=_probes(port))],
                                         service_account=service_account,
                                         volumes=[{"name": "config",
                                                   "configMap": {"name": config_map.metadata.name}},
                                                  {"name": "data", "persistentVolumeClaim": {
                                                      "claimName": claim.metadata.name}}])}})
        k8s.core.v1.Service(f"{name}-service", opts=child,
                            metadata={"name": component, "namespace": namespace, "labels": own},
                            spec={"type": "ClusterIP", "selector": own,
                                  "ports": [{"name": "http", "port": port, "targetPort": "http"}]})
        self.register_outputs({})


def prometheus(name: str, spec: TenantSpec, cluster: ClusterSettings, config: dict, **where) -> ConfiguredServer:
    """Prometheus with `config`, keeping the tenant's retention."""
    return ConfiguredServer(name, spec, component="prometheus", image=cluster.prometheus_image,
                            config_file="prometheus.yml", config=config, port=PROMETHEUS_PORT, storage="20Gi",
                            cluster=cluster,
                            args=["--config.file=/etc/config/prometheus.yml", "--storage.tsdb.path=/data",
                                  f"--storage.tsdb.retention.time={spec.monitoring.retention_days}d",
                                  f"--web.listen-address=:{PROMETHEUS_PORT}"], **where)


def alertmanager(name: str, spec: TenantSpec, cluster: ClusterSettings, **where) -> ConfiguredServer:
    """The fleet's Alertmanager."""
    return ConfiguredServer(name, spec, component="alertmanager", image=cluster.alertmanager_image,
                            config_file="alertmanager.yml", config=alertmanager_config(), port=ALERTMANAGER_PORT,
                            storage="2Gi", cluster=cluster,
                            args=["--config.file=/etc/config/alertmanager.yml", "--storage.path=/data",
                                  f"--web.listen-address=:{ALERTMANAGER_PORT}"], **where)
