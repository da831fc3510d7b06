"""Each check is a plain function of a resource's type token and input properties (camelCase, as the engine
sees them) returning its violations as messages; the stack check takes every resource at once."""
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from infra.cluster import DIGEST_PINNED

# how `fsp plan` shows a secret value; seeing it in an env literal is a violation in itself
SECRET_MARK = "[secret]"
WORKLOAD_TYPES = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|PRIVATE_KEY|API_KEY|(^|_)TOKEN$|CREDENTIAL|DATABASE_URL|DSN|PGURL",
                         re.IGNORECASE)
CREDENTIAL_IN_URL = re.compile(r"://[^/@\s:]+:[^/@\s]+@")
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
TENANT_LABEL = "fsp.mca.gov.cn/tenant"

Props = Mapping[str, Any]
ResourceCheck = Callable[[str, Props], list[str]]


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def pod_spec_of(type_: str, props: Props) -> Props | None:
    """The pod template of a workload, None for anything else."""
    path = WORKLOAD_TYPES.get(type_)
    spec = _get(props, *path) if path else None
    return spec if isinstance(spec, Mapping) else None


def containers_of(pod: Props) -> Iterator[Props]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from (c for c in pod.get(key) or () if isinstance(c, Mapping))


def restricted_pod_security(type_: str, props: Props) -> list[str]:
    """Namespaces enforce the `restricted` Pod Security Standard."""
    if type_ != NAMESPACE:
        return []
    enforce = _get(props, "metadata", "labels", "pod-security.kubernetes.io/enforce")
    return [] if enforce == "restricted" else [
        f"namespace must be labelled pod-security.kubernetes.io/enforce=restricted (found {enforce!r})"]


def requests_and_limits(type_: str, props: Props) -> list[str]:
    """Every container requests and is limited to CPU and memory."""
    pod = pod_spec_of(type_, props)
    problems = []
    for c in containers_of(pod) if pod else ():
        missing = [f"{kind}.{what}" for kind in ("requests", "limits") for what in ("cpu", "memory")
                   if not _get(c, "resources", kind, what)]
        if missing:
            problems.append(f"container {c.get('name')!r} lacks resources {', '.join(missing)}")
    return problems


def no_node_port(type_: str, props: Props) -> list[str]:
    """No Service opens a port on every node."""
    if type_ != "kubernetes:core/v1:Service":
        return []
    if _get(props, "spec", "type") == "NodePort" or any(
            isinstance(p, Mapping) and p.get("nodePort") for p in _get(props, "spec", "ports") or ()):
        return ["service must not be of type NodePort or set a nodePort"]
    return []


def no_host_path(type_: str, props: Props) -> list[str]:
    """No pod mounts the node's filesystem."""
    pod = pod_spec_of(type_, props)
    return [f"volume {v.get('name')!r} mounts a hostPath" for v in (pod or {}).get("volumes") or ()
            if isinstance(v, Mapping) and v.get("hostPath") is not None]


def no_host_namespaces(type_: str, props: Props) -> list[str]:
    """No pod shares the node's network, PID or IPC namespace."""
    pod = pod_spec_of(type_, props) or {}
    return [f"pod must not set {flag}" for flag in ("hostNetwork", "hostPID", "hostIPC") if pod.get(flag) is True]


def no_privileged(type_: str, props: Props) -> list[str]:
    """No container is privileged, may escalate, or keeps a capability."""
    pod = pod_spec_of(type_, props)
    problems = []
    for c in containers_of(pod) if pod else ():
        sc = c.get("securityContext") or {}
        name = c.get("name")
        if sc.get("privileged") is True:
            problems.append(f"container {name!r} is privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            problems.append(f"container {name!r} must set allowPrivilegeEscalation: false")
        if "ALL" not in (_get(sc, "capabilities", "drop") or ()) or _get(sc, "capabilities", "add"):
            problems.append(f"container {name!r} must drop ALL capabilities and add none")
        non_root = sc.get("runAsNonRoot", _get(pod, "securityContext", "runAsNonRoot"))
        if non_root is not True:
            problems.append(f"container {name!r} must run as non-root")
        seccomp = _get(sc, "seccompProfile", "type") or _get(pod, "securityContext", "seccompProfile", "type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            problems.append(f"container {name!r} must use the RuntimeDefault seccomp profile")
        if sc.get("readOnlyRootFilesystem") is not True:
            problems.append(f"container {name!r} must have a read-only root filesystem")
    return problems


def no_secret_env_literals(type_: str, props: Props) -> list[str]:
    """Secrets reach containers by secretKeyRef or mounted files, never as literal env values."""
    pod = pod_spec_of(type_, props)
    problems = []
    for c in containers_of(pod) if pod else ():
        for var in c.get("env") or ():
            if not isinstance(var, Mapping) or "value" not in var:
                continue
            value, name = var.get("value"), str(var.get("name"))
            if SECRET_NAME.search(name) or value == SECRET_MARK or CREDENTIAL_IN_URL.search(str(value or "")):
                problems.append(f"container {c.get('name')!r} sets {name} as a literal: use valueFrom.secretKeyRef")
    return problems


def images_by_digest(type_: str, props: Props) -> list[str]:
    """Every image is pinned by digest (name@sha256:<64 hex>), so what runs is what was reviewed."""
    pod = pod_spec_of(type_, props)
    return [f"container {c.get('name')!r} image {c.get('image')!r} is not pinned by digest"
            for c in (containers_of(pod) if pod else ()) if not DIGEST_PINNED.match(str(c.get("image") or ""))]


def default_deny_everywhere(resources: Iterable[tuple[str, Props]]) -> list[str]:
    """Every tenant namespace has a NetworkPolicy that selects all pods and allows nothing in or out."""
    resources = list(resources)
    tenant_namespaces = {_get(p, "metadata", "name") for t, p in resources
                         if t == NAMESPACE and _get(p, "metadata", "labels", TENANT_LABEL)}
    denied = {_get(p, "metadata", "namespace") for t, p in resources
              if t == NETWORK_POLICY and _is_default_deny(_get(p, "spec") or {})}
    return [f"namespace {ns!r} has no default-deny NetworkPolicy (podSelector {{}}, Ingress and Egress, no rules)"
            for ns in sorted(str(n) for n in tenant_namespaces - denied)]


def _is_default_deny(spec: Props) -> bool:
    return (not _get(spec, "podSelector") and {"Ingress", "Egress"} <= set(spec.get("policyTypes") or ())
            and not spec.get("ingress") and not spec.get("egress"))


# name → (description, check): the policy pack and `fsp plan` both read these
RESOURCE_CHECKS: dict[str, tuple[str, ResourceCheck]] = {
    "restricted-pod-security": ("Namespaces enforce the restricted Pod Security Standard.", restricted_pod_security),
    "requests-and-limits": ("Every container has CPU and memory requests and limits.", requests_and_limits),
    "no-node-port": ("No Service of type NodePort.", no_node_port),
    "no-host-path": ("No hostPath volumes.", no_host_path),
    "no-host-network": ("No hostNetwork, hostPID or hostIPC.", no_host_namespaces),
    "no-privileged": ("No privileged containers, no privilege escalation, all capabilities dropped, non-root, "
                      "seccomp RuntimeDefault, read-only root filesystem.", no_privileged),
    "no-secret-env-literals": ("Secrets only through secretKeyRef or mounted files.", no_secret_env_literals),
    "images-by-digest": ("Images pinned by sha256 digest.", images_by_digest),
}
STACK_CHECKS: dict[str, tuple[str, Callable[[Iterable[tuple[str, Props]]], list[str]]]] = {
    "default-deny-network-policy": ("Every tenant namespace has a default-deny NetworkPolicy.",
                                    default_deny_everywhere),
}

# each policy's clause of GB/T 22239-2019 grade 3 (the pack's compliance-framework metadata, and the baseline's)
CLAUSES: dict[str, str] = {
    "restricted-pod-security": "8.1.4.2 d)",  # least privilege for every workload
    "requests-and-limits": "8.1.2.1 a)",  # capacity for peak load: no pod starves another
    "no-node-port": "8.1.3.1 a)",  # crossing the boundary only through controlled ports (the ingress)
    "no-host-path": "8.1.4.2 d)",
    "no-host-network": "8.1.3.1 a)",
    "no-privileged": "8.1.4.4 a)",  # minimal installation: no more power than the service needs
    "no-secret-env-literals": "8.1.4.8 b)",  # confidentiality of authentication data at rest
    "images-by-digest": "8.1.4.6",  # trusted verification: what runs is what was reviewed
    "default-deny-network-policy": "8.1.3.2 a)",  # deny by default, allow by rule
}
