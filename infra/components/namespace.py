"""A tenant's namespace: restricted Pod Security, a quota, default limits and a service account without a token."""
import pulumi
import pulumi_kubernetes as k8s

from infra.components.pods import labels
from tenants import TenantSpec


class TenantNamespace(pulumi.ComponentResource):
    """Namespace `fsp-<slug>` with its ResourceQuota, LimitRange and the workloads' ServiceAccount."""

    name: pulumi.Output[str]
    service_account: pulumi.Output[str]

    def __init__(self, name: str, spec: TenantSpec, namespace: str, *, cpu: str, memory: str,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("fsp:tenant:Namespace", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tenant_labels = {**labels(spec.slug, "namespace"), "fsp.mca.gov.cn/kind": spec.kind,
                         "fsp.mca.gov.cn/code": spec.code}
        ns = k8s.core.v1.Namespace(namespace, opts=child, metadata={
            "name": namespace,
            "labels": {
                **tenant_labels,
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
                "pod-security.kubernetes.io/audit": "restricted",
                "pod-security.kubernetes.io/warn": "restricted",
            },
        })
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[ns])
        meta = {"namespace": ns.metadata.name, "labels": tenant_labels}
        k8s.core.v1.ResourceQuota(f"{name}-quota", opts=in_ns, metadata={**meta, "name": "tenant-quota"}, spec={
            "hard": {"requests.cpu": cpu, "requests.memory": memory, "limits.cpu": cpu, "limits.memory": memory,
                     "pods": "40", "services.nodeports": "0", "services.loadbalancers": "0",
                     "persistentvolumeclaims": "4", "requests.storage": "200Gi"},
        })
        k8s.core.v1.LimitRange(f"{name}-limits", opts=in_ns, metadata={**meta, "name": "tenant-limits"}, spec={
            "limits": [{"type": "Container",
                        "default": {"cpu": "500m", "memory": "512Mi"},
                        "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                        "max": {"cpu": "4", "memory": "8Gi"}}],
        })
        account = k8s.core.v1.ServiceAccount(f"{name}-workloads", opts=in_ns, metadata={**meta, "name": "workloads"},
                                             automount_service_account_token=False)
        self.name = ns.metadata.name
        self.service_account = account.metadata.name
        self.register_outputs({"name": self.name, "service_account": self.service_account})
