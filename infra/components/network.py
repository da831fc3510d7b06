"""Default-deny networking per tenant namespace, then one NetworkPolicy per conversation that is allowed."""
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from infra.cluster import ClusterSettings, namespace_of

NAME_LABEL = "app.kubernetes.io/name"
NS_LABEL = "kubernetes.io/metadata.name"
DEFAULT_DENY = "default-deny"


@dataclass(frozen=True)
class Allow:
    """Pods named `pods` (app.kubernetes.io/name) may talk to `peers` on `ports` (ingress or egress)."""

    name: str
    pods: Sequence[str]
    direction: str  # "Ingress" or "Egress"
    peers: Sequence[dict]
    ports: Sequence[dict] = field(default_factory=tuple)


def tcp(*ports: int) -> list[dict]:
    return [{"protocol": "TCP", "port": port} for port in ports]


def pods_in(namespace: str | None = None, *, names: Sequence[str] = (), namespace_labels: dict | None = None) -> dict:
    """A peer: pods by name, in one namespace (by name), in namespaces by label, or in this namespace."""
    peer: dict = {}
    if namespace is not None:
        peer["namespaceSelector"] = {"matchLabels": {NS_LABEL: namespace}}
    elif namespace_labels is not None:
        peer["namespaceSelector"] = {"matchLabels": namespace_labels}
    if names:
        peer["podSelector"] = {"matchExpressions": [{"key": NAME_LABEL, "operator": "In", "values": list(names)}]}
    return peer


def common_allows(cluster: ClusterSettings, *, database_clients: Sequence[str], web: Sequence[str],
                  prometheus_scrapes: Sequence[str]) -> list[Allow]:
    """What every tenant namespace allows: DNS, the ingress controller to its web pods, its database, Keycloak,
    and its own Prometheus scraping its services."""
    return [
        Allow("allow-dns", ("*",), "Egress",
              [{"namespaceSelector": {"matchLabels": {NS_LABEL: "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
              [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]),
        Allow("allow-ingress-controller", web, "Ingress", [pods_in(cluster.ingress_namespace)], tcp(8000)),
        Allow("allow-database", database_clients, "Egress", [{"ipBlock": {"cidr": cluster.database_cidr}}], tcp(5432)),
        Allow("allow-keycloak", ("registry",), "Egress", [pods_in(cluster.keycloak_namespace)], tcp(8080, 8443)),
        Allow("allow-scrape-in", prometheus_scrapes, "Ingress", [pods_in(names=("prometheus",))], tcp(8000)),
        Allow("allow-scrape-out", ("prometheus",), "Egress", [pods_in(names=prometheus_scrapes)], tcp(8000)),
    ]


def province_allows(cluster: ClusterSettings, ministry_slug: str) -> list[Allow]:
    """A province: the above, plus its exchange worker shipping to the ministry's hub, and the ministry's
    fleet Prometheus federating its Prometheus."""
    ministry = namespace_of(ministry_slug)
    return [
        *common_allows(cluster, database_clients=("registry", "migrations", "backup", "exchange-worker"),
                       web=("registry",), prometheus_scrapes=("registry", "exchange-worker")),
        Allow("allow-exchange-out", ("registry", "exchange-worker"), "Egress",
              [pods_in(ministry, names=("exchange-hub",))], tcp(8000)),
        Allow("allow-federation-in", ("prometheus",), "Ingress", [pods_in(ministry, names=("fleet-prometheus",))],
              tcp(9090)),
    ]


def ministry_allows(cluster: ClusterSettings) -> list[Allow]:
    """The ministry: the above, provinces' exchange clients to its hub, and its fleet Prometheus federating
    every tenant's Prometheus (its own too) and notifying its Alertmanager."""
    provinces = {"fsp.mca.gov.cn/kind": "province"}
    return [
        *common_allows(cluster, database_clients=("registry", "migrations", "backup", "exchange-hub"),
                       web=("registry", "exchange-hub"), prometheus_scrapes=("registry", "exchange-hub")),
        Allow("allow-exchange-in", ("exchange-hub",), "Ingress",
              [pods_in(namespace_labels=provinces, names=("registry", "exchange-worker"))], tcp(8000)),
        Allow("allow-federation-out", ("fleet-prometheus",), "Egress",
              [pods_in(namespace_labels=provinces, names=("prometheus",)), pods_in(names=("prometheus",))], tcp(9090)),
        Allow("allow-federation-in", ("prometheus",), "Ingress", [pods_in(names=("fleet-prometheus",))], tcp(9090)),
        Allow("allow-alerts-out", ("fleet-prometheus",), "Egress", [pods_in(names=("alertmanager",))], tcp(9093)),
        Allow("allow-alerts-in", ("alertmanager",), "Ingress", [pods_in(names=("fleet-prometheus",))], tcp(9093)),
    ]


def _selector(pods: Sequence[str]) -> dict:
    if list(pods) == ["*"]:
        return {}
    return {"matchExpressions": [{"key": NAME_LABEL, "operator": "In", "values": list(pods)}]}


class NetworkPolicies(pulumi.ComponentResource):
    """The namespace's default-deny policy (nothing in, nothing out) and each explicit allow."""

    def __init__(self, name: str, namespace: pulumi.Input[str], allows: Sequence[Allow],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fsp:tenant:NetworkPolicies", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        k8s.networking.v1.NetworkPolicy(f"{name}-{DEFAULT_DENY}", opts=child,
                                        metadata={"name": DEFAULT_DENY, "namespace": namespace},
                                        spec={"podSelector": {}, "policyTypes": ["Ingress", "Egress"]})
        for allow in allows:
            side = "from" if allow.direction == "Ingress" else "to"
            rule: dict = {side: list(allow.peers)}
            if allow.ports:
                rule["ports"] = list(allow.ports)
            k8s.networking.v1.NetworkPolicy(f"{name}-{allow.name}", opts=child,
                                            metadata={"name": allow.name, "namespace": namespace},
                                            spec={"podSelector": _selector(allow.pods),
                                                  "policyTypes": [allow.direction],
                                                  allow.direction.lower(): [rule]})
        self.register_outputs({})
