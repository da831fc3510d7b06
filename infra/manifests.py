"""The Kubernetes manifests a stack's plan declares, as `kubectl apply` would read them: for scanners that judge
manifests (checkov), a second opinion beside the policy pack."""
from typing import Any

KUBERNETES = "kubernetes:"


def kubernetes_manifests(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every Kubernetes resource of a plan (`infra.plan.plan(...)["resources"]`) as a manifest; secrets stay masked.

    The plan's properties went through protobuf's Struct, where every number is a double: integral ones are
    given back as integers, as the manifests would hold them."""
    manifests = []
    for resource in resources:
        if not resource["type"].startswith(KUBERNETES):
            continue
        group_version, kind = resource["type"].removeprefix(KUBERNETES).split(":")
        group, version = group_version.split("/")
        api_version = version if group == "core" else f"{group}/{version}"
        manifests.append({"apiVersion": api_version, "kind": kind, **_integers(resource["props"])})
    return manifests


def _integers(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _integers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integers(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
