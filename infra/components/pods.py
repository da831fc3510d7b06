"""The one hardened shape every pod of the kit takes (restricted Pod Security, grade-3 baseline)."""
from collections.abc import Sequence
from typing import Any

# every workload runs as this unprivileged user; images must not need root
RUN_AS_USER = 10001
SECRET_MOUNT_MODE = 0o440


def labels(slug: str, component: str) -> dict[str, str]:
    """Labels that select one component of one tenant."""
    return {"app.kubernetes.io/name": component, "app.kubernetes.io/part-of": "fsp", "fsp.mca.gov.cn/tenant": slug}


def resources(cpu: str, memory: str, *, cpu_limit: str | None = None, memory_limit: str | None = None) -> dict:
    """Requests and limits: the quota admits nothing without both."""
    return {"requests": {"cpu": cpu, "memory": memory},
            "limits": {"cpu": cpu_limit or cpu, "memory": memory_limit or memory}}


def container(name: str, image: str, *, args: Sequence[str] = (), command: Sequence[str] = (),
              env: Sequence[dict] = (), ports: Sequence[dict] = (), mounts: Sequence[dict] = (),
              resources_: dict, probes: dict | None = None) -> dict[str, Any]:
    """A container that cannot gain privileges and writes only to its mounted volumes."""
    spec: dict[str, Any] = {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "env": list(env),
        "ports": list(ports),
        "resources": resources_,
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}, *mounts],
        "securityContext": {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    if command:
        spec["command"] = list(command)
    if args:
        spec["args"] = list(args)
    if probes:
        spec.update(probes)
    return spec


def http_probes(port: int) -> dict:
    """Liveness on /healthz (the process answers), readiness on /readyz (database reachable, schema at head)."""
    return {
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": port}, "periodSeconds": 10, "failureThreshold": 3},
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": port}, "periodSeconds": 5, "failureThreshold": 3},
    }


def pod_spec(containers: Sequence[dict], *, service_account: str, volumes: Sequence[dict] = (),
             restart_policy: str | None = None) -> dict[str, Any]:
    """A pod with no service-account token, no host namespaces and the runtime's default seccomp profile."""
    spec: dict[str, Any] = {
        "serviceAccountName": service_account,
        "automountServiceAccountToken": False,
        "hostNetwork": False,
        "hostPID": False,
        "hostIPC": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "runAsGroup": RUN_AS_USER,
            "fsGroup": RUN_AS_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": list(containers),
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}, *volumes],
    }
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    return spec


def secret_env(name: str, secret: Any, key: str) -> dict:
    """An environment variable read from a Secret by reference, never a literal."""
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def secret_volume(name: str, secret: Any) -> dict:
    """A Secret mounted as read-only files (keys the app reads from a directory)."""
    return {"name": name, "secret": {"secretName": secret, "defaultMode": SECRET_MOUNT_MODE}}
