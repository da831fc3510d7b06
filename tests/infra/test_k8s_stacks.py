"""What a province's and the ministry's Kubernetes stacks declare, read from Pulumi's mock runtime."""
import asyncio
import json
import subprocess

import pulumi
import pytest
import yaml
from pydantic import ValidationError

from fsp_k8s_stacks import IMAGES, PUBLIC_PEM, SECRET_VALUES, catalog, cluster, named, of_type, planned, stack_inputs
from infra.cluster import ClusterSettings
from infra.plan import plan
from infra.policies.checks import pod_spec_of
from infra.stacks.platform import TenantStack, program
from monitoring.processes import binary

NAMESPACE = "kubernetes:core/v1:Namespace"
NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SECRET = "kubernetes:core/v1:Secret"


def workloads(result: dict) -> list[tuple[dict, dict]]:
    return [(r, pod) for r in result["resources"] if (pod := pod_spec_of(r["type"], r["props"])) is not None]


def env_of(container: dict) -> dict[str, dict]:
    return {var["name"]: var for var in container.get("env", [])}


@pytest.fixture(params=["beijing", "ministry"])
def result(request) -> dict:
    return planned(request.param)


# --- namespace, quota, limits, service account ------------------------------------------------------------------

def test_namespace_is_labelled_with_the_tenant_and_enforces_restricted_pod_security():
    (ns,) = of_type(planned("beijing"), NAMESPACE)
    labels = ns["props"]["metadata"]["labels"]
    assert ns["props"]["metadata"]["name"] == "fsp-beijing"
    assert labels["fsp.mca.gov.cn/tenant"] == "beijing" and labels["fsp.mca.gov.cn/code"] == "110000"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_quota_and_limit_range_bound_the_namespace(result):
    quota = of_type(result, "kubernetes:core/v1:ResourceQuota")[0]["props"]
    limits = of_type(result, "kubernetes:core/v1:LimitRange")[0]["props"]
    assert {"requests.cpu", "requests.memory", "limits.cpu", "limits.memory"} <= set(quota["spec"]["hard"])
    assert quota["spec"]["hard"]["services.nodeports"] == "0"
    (container,) = limits["spec"]["limits"]
    assert container["type"] == "Container" and container["default"] and container["defaultRequest"]


def test_every_pod_runs_under_the_tokenless_service_account(result):
    (account,) = of_type(result, "kubernetes:core/v1:ServiceAccount")
    assert account["props"]["automountServiceAccountToken"] is False
    for resource, pod in workloads(result):
        assert pod["serviceAccountName"] == account["props"]["metadata"]["name"], resource["name"]
        assert pod["automountServiceAccountToken"] is False, resource["name"]


# --- hardening of every pod -------------------------------------------------------------------------------------

def test_every_container_is_hardened_with_requests_limits_and_a_pinned_image(result):
    assert len(workloads(result)) >= 5
    for resource, pod in workloads(result):
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert not pod.get("hostNetwork") and not pod.get("hostPID") and not pod.get("hostIPC")
        assert all("hostPath" not in volume for volume in pod["volumes"])
        for container in pod["containers"]:
            where = f"{resource['name']}/{container['name']}"
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] is True and sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False and sc["privileged"] is False, where
            assert sc["capabilities"] == {"drop": ["ALL"]}, where
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, where
            for kind in ("requests", "limits"):
                assert set(container["resources"][kind]) == {"cpu", "memory"}, where
            assert container["image"] in IMAGES.values(), where


def test_no_secret_reaches_a_container_as_an_env_literal(result):
    for resource, pod in workloads(result):
        for container in pod["containers"]:
            for name, var in env_of(container).items():
                assert "value" in var or "secretKeyRef" in var["valueFrom"], (resource["name"], name)
                assert "://" not in str(var.get("value", "")) or "@" not in str(var.get("value")), name


def test_unpinned_images_are_refused_when_configured():
    with pytest.raises(ValidationError, match="not pinned by digest"):
        ClusterSettings(registry_image="registry.example.cn/fsp/registry:latest")
    with pytest.raises(ValidationError, match="not pinned by digest"):
        ClusterSettings(backup_image="postgres@sha256:short")


# --- the registry --------------------------------------------------------------------------------------------------

def test_registry_deployment_is_replicated_probed_and_waits_for_the_migrations():
    result = planned("beijing")
    deployment = named(result, "beijing-registry-deployment")
    spec = deployment["props"]["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    assert spec["replicas"] >= 2
    assert container["image"] == IMAGES["registry_image"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    env = env_of(container)
    assert env["FSP_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "registry-database", "key": "url"}
    assert env["FSP_ROLE"]["value"] == "province" and env["FSP_ENVIRONMENT"]["value"] == "production"
    assert env["FSP_TOKEN_ISSUER"]["value"].endswith("/realms/fsp-beijing")
    assert env["FSP_SWEEP_INTERVAL_SECONDS"]["value"] == "300"  # the province's sweeps run in each replica
    keys = [v for v in spec["template"]["spec"]["volumes"] if v["name"] == "keys"]
    assert keys[0]["secret"]["secretName"] == "registry-keys"
    assert "beijing-registry-migrations" in deployment["depends_on"]

    job = named(result, "beijing-registry-migrations")
    (migrate,) = job["props"]["spec"]["template"]["spec"]["containers"]
    assert migrate["command"][0] == "alembic" and migrate["args"] == ["upgrade", "head"]
    assert {"beijing-database", "beijing-realm"} <= set(job["depends_on"])


def test_registry_is_served_only_through_a_tls_ingress():
    result = planned("beijing")
    service = named(result, "beijing-registry-service")["props"]["spec"]
    assert service["type"] == "ClusterIP"
    ingress = named(result, "beijing-registry-ingress")["props"]["spec"]
    assert ingress["tls"] == [{"hosts": ["beijing.fsp.mca.gov.cn"], "secretName": "registry-tls"}]
    assert ingress["rules"][0]["host"] == "beijing.fsp.mca.gov.cn"


def test_secrets_hold_the_database_url_and_keys_and_are_secret_in_state():
    result = planned("beijing")
    database = named(result, "beijing-secrets-database")["props"]
    keys = named(result, "beijing-secrets-keys")["props"]
    assert database["stringData"] == "[secret]" and keys["data"] == "[secret]"


def test_backup_cronjob_and_exchange_worker():
    result = planned("beijing")
    cron = named(result, "beijing-backup-cronjob")["props"]["spec"]
    assert cron["concurrencyPolicy"] == "Forbid" and cron["timeZone"] == "Asia/Shanghai"
    (dump,) = cron["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert env_of(dump)["PGURL"]["valueFrom"]["secretKeyRef"]["key"] == "libpq-url"
    assert "pg_dump" in dump["args"][0] and "$PGURL" in dump["args"][0]
    worker = named(result, "beijing-exchange-worker-deployment")["props"]["spec"]["template"]["spec"]
    assert env_of(worker["containers"][0])["FSP_EXCHANGE_URL"]["value"].startswith("http://exchange-hub.fsp-ministry.")


def test_provincial_prometheus_scrapes_the_registry_records_tenant_series_with_the_province_label():
    result = planned("beijing")
    data = named(result, "beijing-prometheus-config")["props"]["data"]
    config = yaml.safe_load(data["prometheus.yml"])
    assert config["global"]["external_labels"]["province"] == "beijing"
    registry, exchange = config["scrape_configs"]
    assert registry["static_configs"][0]["targets"] == ["registry.fsp-beijing.svc:8000"]
    # the exchange worker, through its own Service, which selects the worker's pods only
    assert exchange["static_configs"] == [{"targets": ["exchange-worker.fsp-beijing.svc:8000"],
                                           "labels": {"province": "beijing", "code": "110000"}}]
    service = named(result, "beijing-exchange-worker-service")["props"]["spec"]
    worker = named(result, "beijing-exchange-worker-deployment")["props"]["spec"]
    assert service["selector"] == worker["selector"]["matchLabels"] == worker["template"]["metadata"]["labels"]
    assert config["rule_files"] == ["rules/tenant.rules.yml", "rules/drift.rules.yml"]
    assert "record: tenant:up" in data["rules_tenant.rules.yml"]
    assert "record: tenant:drift_items:max" in data["rules_drift.rules.yml"]
    volume = next(v for v in named(result, "beijing-prometheus-deployment")["props"]["spec"]["template"]["spec"][
        "volumes"] if v["name"] == "config")
    assert {"key": "rules_tenant.rules.yml", "path": "rules/tenant.rules.yml"} in volume["configMap"]["items"]


# --- network policies ----------------------------------------------------------------------------------------------

def _policies(result: dict) -> dict[str, dict]:
    return {r["props"]["metadata"]["name"]: r["props"]["spec"] for r in of_type(result, NETPOL)}


def test_default_deny_then_only_the_named_conversations_for_a_province():
    policies = _policies(planned("beijing"))
    assert policies["default-deny"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    ingress = policies["allow-ingress-controller"]
    assert ingress["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
    assert ingress["podSelector"]["matchExpressions"][0]["values"] == ["registry"]
    assert policies["allow-database"]["egress"][0] == {"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
                                                       "ports": [{"protocol": "TCP", "port": 5432}]}
    assert policies["allow-keycloak"]["egress"][0]["to"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "keycloak"}
    exchange = policies["allow-exchange-out"]["egress"][0]["to"][0]
    assert exchange["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "fsp-ministry"}
    assert {"protocol": "UDP", "port": 53} in policies["allow-dns"]["egress"][0]["ports"]
    for name, spec in policies.items():
        rules = spec.get("ingress", []) + spec.get("egress", [])
        # an allow with no peer or no port would open everything: each names both
        assert name == "default-deny" or all(r.get("from") or r.get("to") for r in rules), name


def test_ministry_accepts_provinces_exchange_and_federates_their_prometheus():
    policies = _policies(planned("ministry"))
    assert policies["default-deny"]["podSelector"] == {}
    exchange_in = policies["allow-exchange-in"]["ingress"][0]["from"][0]
    assert exchange_in["namespaceSelector"]["matchLabels"] == {"fsp.mca.gov.cn/kind": "province"}
    federation = policies["allow-federation-out"]
    assert federation["podSelector"]["matchExpressions"][0]["values"] == ["fleet-prometheus"]
    assert federation["egress"][0]["ports"] == [{"protocol": "TCP", "port": 9090}]


# --- the ministry --------------------------------------------------------------------------------------------------

def test_ministry_runs_the_national_registry_the_exchange_hub_and_alertmanager():
    result = planned("ministry")
    registry = named(result, "ministry-registry-deployment")["props"]["spec"]["template"]["spec"]
    assert env_of(registry["containers"][0])["FSP_ROLE"]["value"] == "ministry"
    assert "FSP_SWEEP_INTERVAL_SECONDS" not in env_of(registry["containers"][0])  # the ministry sweeps nothing
    hub = named(result, "ministry-exchange-hub-deployment")["props"]["spec"]
    assert hub["replicas"] >= 2
    peers = named(result, "ministry-exchange-peers")["props"]["data"]
    assert peers == {"beijing.pem": PUBLIC_PEM}
    assert named(result, "ministry-exchange-hub-service")["props"]["spec"]["type"] == "ClusterIP"
    own = yaml.safe_load(named(result, "ministry-prometheus-config")["props"]["data"]["prometheus.yml"])
    exchange = next(job for job in own["scrape_configs"] if job["job_name"] == "exchange")
    assert exchange["static_configs"][0]["targets"] == ["exchange-hub.fsp-ministry.svc:8000"]
    assert named(result, "ministry-alertmanager-deployment")["props"]["spec"]["template"]["spec"]["containers"][0][
        "image"] == IMAGES["alertmanager_image"]


def test_fleet_prometheus_federates_every_tenant_of_the_catalog_and_alerts():
    result = planned("ministry")
    data = named(result, "ministry-fleet-prometheus-config")["props"]["data"]
    config = yaml.safe_load(data["prometheus.yml"])
    federate = next(job for job in config["scrape_configs"] if job["job_name"] == "federate")
    assert federate["honor_labels"] is True and federate["metrics_path"] == "/federate"
    assert '{__name__=~"tenant:.*"}' in federate["params"]["match[]"]
    provinces = {entry["labels"]["province"]: entry["targets"] for entry in federate["static_configs"]}
    assert set(provinces) == {spec.slug for spec in catalog().tenants} and len(provinces) == 33
    assert provinces["ministry"] == ["prometheus.fsp-ministry.svc:9090"]
    assert "alert: FspProvinceDown" in data["rules_fleet.alerts.yml"]
    assert "alert: FspDriftFound" in data["rules_drift.alerts.yml"]
    assert provinces["yunnan"] == ["prometheus.fsp-yunnan.svc:9090"]
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "alertmanager.fsp-ministry.svc:9093"]


# --- dynamic resources and secrets -----------------------------------------------------------------------------------

def test_dynamic_resources_get_credentials_only_as_secrets():
    result = planned("beijing")
    database = named(result, "beijing-database")
    assert database["type"] == "pulumi-python:dynamic/fsp:PostgresDatabase"
    assert database["props"]["admin_url"] == "[secret]" and database["props"]["password"] == "[secret]"
    assert database["props"]["database"] == "fsp_beijing"
    realm = named(result, "beijing-realm")
    assert realm["props"]["admin_password"] == "[secret]" and realm["props"]["admin_username"] == "[secret]"
    registration = named(result, "beijing-registration")
    assert registration["props"]["public_pem"] == PUBLIC_PEM


def test_no_secret_value_appears_anywhere_in_either_plan(result):
    text = json.dumps(result)
    assert not [value for value in SECRET_VALUES if value in text]


def test_a_province_without_exchange_has_no_worker_and_no_registration():
    spec = catalog().resolve("tianjin")
    spec = spec.model_copy(update={"exchange": spec.exchange.model_copy(update={"enabled": False})})
    result = plan(program(stack_inputs(spec)), stack="tianjin")
    names = {r["name"] for r in result["resources"]}
    assert "tianjin-registry-deployment" in names
    assert not {"tianjin-exchange-worker-deployment", "tianjin-exchange-worker-service", "tianjin-registration"} & names
    config = yaml.safe_load(named(result, "tianjin-prometheus-config")["props"]["data"]["prometheus.yml"])
    assert [job["job_name"] for job in config["scrape_configs"]] == ["registry"]  # nothing to scrape for


# --- the component's outputs, as Pulumi unit tests --------------------------------------------------------------------

class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        return f"{args.name}-id", args.inputs

    def call(self, args):
        return {}, None


@pytest.fixture
def mocked():
    pulumi.runtime.set_mocks(_Mocks(), project="fsp", stack="shandong", preview=False)


@pulumi.runtime.test
def test_tenant_stack_outputs_its_namespace_host_and_database(mocked):
    stack = TenantStack("shandong", stack_inputs(catalog().resolve("shandong")))

    def check(values):
        namespace, host, database = values
        assert namespace == "fsp-shandong"
        assert host == "shandong.fsp.mca.gov.cn"
        assert database == "fsp_shandong"

    return pulumi.Output.all(stack.namespace, stack.host, stack.database.database).apply(check)


def test_pods_and_the_control_plane_can_reach_the_servers_at_different_addresses():
    spec = catalog().resolve("hainan")
    inputs = stack_inputs(spec, cluster=cluster(database_host="pg.fsp-data.svc",
                                                keycloak_admin_url="https://kc.example.cn"))
    assert "@pg.fsp-data.svc:5432/fsp_hainan" in inputs.database_url
    assert inputs.libpq_url.startswith("postgresql://fsp_hainan:")
    realm = named(plan(program(inputs), stack="hainan"), "hainan-realm")["props"]
    assert realm["server_url"] == "https://kc.example.cn"
    assert inputs.token_issuer == "http://keycloak.keycloak.svc:8080/realms/fsp-hainan"


@pytest.mark.parametrize("slug, component", [("beijing", "prometheus"), ("ministry", "fleet-prometheus"),
                                             ("ministry", "alertmanager")])
def test_configmaps_mounted_as_declared_are_valid_for_promtool(tmp_path, slug, component):
    """The ConfigMap's items laid out as the kubelet mounts them, checked by the real promtool."""
    result = planned(slug)
    data = named(result, f"{slug}-{component}-config")["props"]["data"]
    pod = named(result, f"{slug}-{component}-deployment")["props"]["spec"]["template"]["spec"]
    volume = next(v for v in pod["volumes"] if v["name"] == "config")
    for item in volume["configMap"]["items"]:
        path = tmp_path / item["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(data[item["key"]])
    config_flag = next(a for a in pod["containers"][0]["args"] if a.startswith("--config.file="))
    config = tmp_path / config_flag.removeprefix("--config.file=/etc/config/")
    if component == "alertmanager":
        # the same routing as locally (grouped by province and severity), valid for the real amtool
        route = yaml.safe_load(config.read_text())["route"]
        assert (route["receiver"], route["group_by"]) == ("fleet-sre", ["province", "severity"])
        checked = subprocess.run([binary("amtool"), "check-config", str(config)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        return
    checked = subprocess.run([binary("promtool"), "check", "config", str(config)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout + checked.stderr


def _quantity(text: str) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text.removesuffix(suffix)) * factor
    return float(text)


def test_every_workload_fits_the_namespace_quota_even_mid_rollout(result):
    hard = of_type(result, "kubernetes:core/v1:ResourceQuota")[0]["props"]["spec"]["hard"]
    totals = {"requests.cpu": 0.0, "requests.memory": 0.0, "limits.cpu": 0.0, "limits.memory": 0.0}
    for resource, pod in workloads(result):
        spec = resource["props"]["spec"]
        # a Deployment's rolling update runs one pod more; a Job or CronJob runs one pod at a time
        copies = spec.get("replicas", 1) + (1 if resource["type"].endswith("Deployment") else 0)
        for container in pod["containers"]:
            for kind in ("requests", "limits"):
                for what in ("cpu", "memory"):
                    totals[f"{kind}.{what}"] += copies * _quantity(container["resources"][kind][what])
    for key, used in totals.items():
        assert used <= _quantity(hard[key]), (key, used, hard[key])


def test_a_stack_plans_after_another_library_ran_and_closed_its_event_loop():
    # `fsp plan` runs in processes that used asyncio before (asyncio.run leaves the thread without a loop)
    async def earlier_work() -> int:
        return 1

    assert asyncio.run(earlier_work()) == 1
    fresh = plan(program(stack_inputs(catalog().resolve("beijing"))), stack="beijing")
    assert named(fresh, "beijing-registry-deployment")["type"] == "kubernetes:apps/v1:Deployment"
