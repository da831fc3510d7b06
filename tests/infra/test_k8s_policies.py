"""The CrossGuard pack: each policy passes the real stacks and rejects a deliberately bad resource."""
import copy
import re

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from fsp_k8s_stacks import named, planned
from infra.plan import Declared, violations
from infra.policies.pack import policies

DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[])


def _policy(name: str):
    return next(p for p in policies() if p.name == name)


def judge(name: str, type_: str, props: dict) -> list[str]:
    """What the pack's policy `name` reports for one resource, called the way the analyzer calls it."""
    reported: list[str] = []
    args = ResourceValidationArgs(type_, props, f"urn:pulumi:test::fsp::{type_}::r", "r", _options(), None)
    _policy(name).validate(args, lambda message, urn=None: reported.append(message))
    return reported


def judge_stack(resources: list[tuple[str, dict]]) -> list[str]:
    reported: list[str] = []
    args = StackValidationArgs([PolicyResource(t, p, f"urn:{i}", f"r{i}", _options(), None, None, [], {})
                                for i, (t, p) in enumerate(resources)])
    _policy("default-deny-network-policy").validate(args, lambda message, urn=None: reported.append(message))
    return reported


@pytest.fixture
def deployment() -> dict:
    """A copy of the real registry Deployment's properties, to spoil one way per test."""
    return copy.deepcopy(named(planned("beijing"), "beijing-registry-deployment")["props"])


def _container(props: dict) -> dict:
    return props["spec"]["template"]["spec"]["containers"][0]


def test_every_policy_is_mandatory_and_the_pack_has_all_of_them():
    pack = policies()
    assert {p.name for p in pack} == {
        "restricted-pod-security", "requests-and-limits", "no-node-port", "no-host-path", "no-host-network",
        "no-privileged", "no-secret-env-literals", "images-by-digest", "default-deny-network-policy"}
    assert all(p.enforcement_level == EnforcementLevel.MANDATORY for p in pack)
    assert sum(isinstance(p, StackValidationPolicy) for p in pack) == 1
    assert sum(isinstance(p, ResourceValidationPolicy) for p in pack) == 8


def test_every_policy_names_its_clause_of_gb_t_22239():
    for policy in policies():
        assert policy.framework.name == "GB/T 22239-2019" and policy.framework.version == "grade 3", policy.name
        assert re.fullmatch(r"8\.1\.\d\.\d+( [a-z]\))?", policy.framework.reference), policy.name


@pytest.mark.parametrize("slug", ["beijing", "ministry"])
def test_the_real_stacks_pass_every_policy(slug):
    result = planned(slug)
    declared = [Declared(r["type"], r["name"], r["props"]) for r in result["resources"]]
    assert violations(declared) == []
    assert result["violations"] == []
    for resource in result["resources"]:
        for policy in policies():
            if isinstance(policy, ResourceValidationPolicy):
                assert judge(policy.name, resource["type"], resource["props"]) == [], (policy.name, resource["name"])


def test_the_real_deployment_passes_each_workload_policy(deployment):
    for name in ("requests-and-limits", "no-host-path", "no-host-network", "no-privileged",
                 "no-secret-env-literals", "images-by-digest"):
        assert judge(name, DEPLOYMENT, deployment) == [], name


def test_namespace_without_restricted_pod_security_is_rejected():
    good = named(planned("beijing"), "fsp-beijing")
    bad = copy.deepcopy(good["props"])
    bad["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] = "baseline"
    assert judge("restricted-pod-security", good["type"], good["props"]) == []
    assert judge("restricted-pod-security", good["type"], bad) == [
        "namespace must be labelled pod-security.kubernetes.io/enforce=restricted (found 'baseline')"]


def test_missing_limits_are_rejected(deployment):
    del _container(deployment)["resources"]["limits"]
    assert judge("requests-and-limits", DEPLOYMENT, deployment) == [
        "container 'registry' lacks resources limits.cpu, limits.memory"]


def test_node_port_service_is_rejected():
    good = named(planned("beijing"), "beijing-registry-service")
    bad = copy.deepcopy(good["props"])
    bad["spec"]["type"] = "NodePort"
    assert judge("no-node-port", good["type"], good["props"]) == []
    assert judge("no-node-port", good["type"], bad) == ["service must not be of type NodePort or set a nodePort"]


def test_host_path_volume_is_rejected(deployment):
    deployment["spec"]["template"]["spec"]["volumes"].append({"name": "node", "hostPath": {"path": "/"}})
    assert judge("no-host-path", DEPLOYMENT, deployment) == ["volume 'node' mounts a hostPath"]


def test_host_network_is_rejected(deployment):
    deployment["spec"]["template"]["spec"]["hostNetwork"] = True
    assert judge("no-host-network", DEPLOYMENT, deployment) == ["pod must not set hostNetwork"]


def test_privileged_container_is_rejected(deployment):
    _container(deployment)["securityContext"]["privileged"] = True
    assert judge("no-privileged", DEPLOYMENT, deployment) == ["container 'registry' is privileged"]


def test_container_keeping_capabilities_or_writable_root_is_rejected(deployment):
    context = _container(deployment)["securityContext"]
    context["capabilities"] = {"add": ["NET_ADMIN"]}
    context["readOnlyRootFilesystem"] = False
    assert judge("no-privileged", DEPLOYMENT, deployment) == [
        "container 'registry' must drop ALL capabilities and add none",
        "container 'registry' must have a read-only root filesystem"]


@pytest.mark.parametrize("variable", [
    {"name": "FSP_DATABASE_URL", "value": "postgresql+psycopg://fsp:pw@db:5432/fsp"},
    {"name": "UPSTREAM", "value": "https://user:pw@exchange.example.cn/"},
    {"name": "ADMIN_PASSWORD", "value": "x"},
    {"name": "ANYTHING", "value": "[secret]"},
])
def test_secret_as_env_literal_is_rejected(deployment, variable):
    _container(deployment)["env"].append(variable)
    assert judge("no-secret-env-literals", DEPLOYMENT, deployment) == [
        f"container 'registry' sets {variable['name']} as a literal: use valueFrom.secretKeyRef"]


def test_image_by_tag_is_rejected_in_cronjobs_too():
    cron = named(planned("beijing"), "beijing-backup-cronjob")
    bad = copy.deepcopy(cron["props"])
    bad["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["image"] = "postgres:16"
    assert judge("images-by-digest", cron["type"], cron["props"]) == []
    assert judge("images-by-digest", cron["type"], bad) == [
        "container 'pg-dump' image 'postgres:16' is not pinned by digest"]


def test_tenant_namespace_without_default_deny_is_rejected():
    resources = [(r["type"], r["props"]) for r in planned("beijing")["resources"]]
    assert judge_stack(resources) == []
    without = [(t, p) for t, p in resources
               if not (t.endswith("NetworkPolicy") and p["metadata"]["name"] == "default-deny")]
    assert judge_stack(without) == ["namespace 'fsp-beijing' has no default-deny NetworkPolicy "
                                    "(podSelector {}, Ingress and Egress, no rules)"]
    # a "default-deny" that allows something is no default deny
    leaky = copy.deepcopy(resources)
    for t, p in leaky:
        if t.endswith("NetworkPolicy") and p["metadata"]["name"] == "default-deny":
            p["spec"]["ingress"] = [{}]
    assert len(judge_stack(leaky)) == 1
