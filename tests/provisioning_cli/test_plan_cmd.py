"""`fsp plan|preview|up|down --target kubernetes`: the offline plan, and clear refusals before anything runs."""
import json
import os
import stat

import pytest

from fsp_k8s_stacks import IMAGES

ADMIN_DSN = "postgresql+psycopg://fsp_admin:Plan-Admin-Pw@10.1.2.3:5432/postgres"


@pytest.fixture
def images(monkeypatch):
    for name, image in IMAGES.items():
        monkeypatch.setenv(f"FSP_K8S_{name.upper()}", image)


@pytest.fixture
def no_pulumi(monkeypatch, tmp_path):
    """A PATH on which there is no pulumi CLI (the real state of CI)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.fixture
def fake_pulumi(monkeypatch, tmp_path):
    """A PATH with something called pulumi on it, to reach the checks that come after."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "pulumi"
    # answers `pulumi version` so the Automation API starts, then fails every operation like a broken backend
    tool.write_text('#!/bin/sh\n[ "$1" = version ] && { echo v3.200.0; exit 0; }\n'
                    'echo "error: no backend reachable for $1" >&2\nexit 3\n')
    tool.chmod(stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")


def test_plan_json_lists_typed_resources_with_their_props_and_no_violations(fsp, home, images):
    result = json.loads(fsp("plan", "beijing", "--target", "kubernetes", "--postgres", ADMIN_DSN, "--json").stdout)
    assert set(result) == {"resources", "violations"} and result["violations"] == []
    assert all({"type", "name", "props"} <= set(r) for r in result["resources"])
    types = {r["type"] for r in result["resources"]}
    assert {"kubernetes:core/v1:Namespace", "kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:Job",
            "kubernetes:batch/v1:CronJob", "kubernetes:networking.k8s.io/v1:NetworkPolicy",
            "kubernetes:networking.k8s.io/v1:Ingress", "pulumi-python:dynamic/fsp:PostgresDatabase",
            "pulumi-python:dynamic/fsp:KeycloakRealm", "pulumi-python:dynamic/fsp:ExchangeRegistration"} <= types
    namespace = next(r for r in result["resources"] if r["type"] == "kubernetes:core/v1:Namespace")
    assert namespace["props"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    # plan is offline and read-only: nothing written under $FSP_HOME
    assert not home.exists()


def test_plan_shows_secrets_masked_never_in_clear(fsp, images):
    out = fsp("plan", "beijing", "--postgres", ADMIN_DSN, "--json").stdout
    assert "Plan-Admin-Pw" not in out and "BEGIN PRIVATE KEY" not in out
    result = json.loads(out)
    secrets = next(r for r in result["resources"] if r["name"] == "beijing-secrets-database")
    assert secrets["props"]["stringData"] == "[secret]"
    database = next(r for r in result["resources"] if r["name"] == "beijing-database")
    assert database["props"]["admin_url"] == "[secret]" and database["props"]["password"] == "[secret]"


def test_plan_ministry_federates_the_catalog(fsp, images):
    result = json.loads(fsp("plan", "ministry", "--target", "kubernetes", "--json").stdout)
    names = {r["name"] for r in result["resources"]}
    assert {"ministry-exchange-hub-deployment", "ministry-fleet-prometheus-config",
            "ministry-alertmanager-deployment", "ministry-prometheus-deployment"} <= names
    config = next(r for r in result["resources"] if r["name"] == "ministry-fleet-prometheus-config")
    assert "prometheus.fsp-xinjiang.svc:9090" in config["props"]["data"]["prometheus.yml"]


def test_plan_for_people_is_a_table_and_accepts_a_code(fsp, images):
    out = fsp("plan", "530000").stdout
    assert "yunnan-registry-deployment" in out and "policy pack: no violations" in out


def test_plan_with_unpinned_images_prints_the_violations_and_exits_1(fsp):
    run = fsp("plan", "beijing", "--json", ok=False)
    result = json.loads(run.stdout)
    assert {v["policy"] for v in result["violations"]} == {"images-by-digest"}
    assert "policy violation(s) in beijing's stack" in run.stderr


def test_plan_refuses_a_tag_as_image(fsp, monkeypatch):
    monkeypatch.setenv("FSP_K8S_REGISTRY_IMAGE", "registry.example.cn/fsp/registry:latest")
    run = fsp("plan", "beijing", ok=False)
    assert run.stderr.startswith("error: FSP_K8S_REGISTRY_IMAGE:") and "not pinned by digest" in run.stderr


def test_plan_refuses_the_local_target_and_unknown_tenants(fsp):
    assert "is for --target kubernetes" in fsp("plan", "beijing", "--target", "local", ok=False).stderr
    assert "error:" in fsp("plan", "atlantis", ok=False).stderr


@pytest.mark.parametrize("command", [
    ("up", "beijing", "--target", "kubernetes"),
    ("preview", "beijing"),
    ("down", "beijing", "--target", "kubernetes"),
])
def test_without_the_pulumi_cli_each_command_says_how_to_install_it(fsp, home, images, no_pulumi, command):
    run = fsp(*command, "--postgres", ADMIN_DSN, ok=False)
    assert run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith("error: the pulumi CLI is not installed") and "get.pulumi.com" in run.stderr
    assert not home.exists()


def test_up_names_every_missing_precondition_before_writing(fsp, home, fake_pulumi, monkeypatch):
    run = fsp("up", "beijing", "--target", "kubernetes", "--postgres", ADMIN_DSN, ok=False)
    assert "set FSP_K8S_REGISTRY_IMAGE, FSP_K8S_PROMETHEUS_IMAGE" in run.stderr
    for name, image in IMAGES.items():
        monkeypatch.setenv(f"FSP_K8S_{name.upper()}", image)
    assert "--postgres DSN" in fsp("up", "beijing", "--target", "kubernetes", ok=False).stderr
    monkeypatch.delenv("FSP_KEYCLOAK_ADMIN_PASSWORD", raising=False)
    assert "FSP_KEYCLOAK_ADMIN_PASSWORD" in fsp("up", "beijing", "--target", "kubernetes", "--postgres", ADMIN_DSN,
                                                ok=False).stderr
    assert not home.exists()



def test_up_keeps_the_tenant_material_private_and_reports_an_engine_failure_in_one_line(fsp, home, images,
                                                                                       fake_pulumi, monkeypatch):
    monkeypatch.setenv("FSP_KEYCLOAK_ADMIN_PASSWORD", "kc-admin-pw")
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    run = fsp("up", "beijing", "--target", "kubernetes", "--postgres", ADMIN_DSN, ok=False)
    assert run.stderr.startswith("error: pulumi failed for beijing: error: no backend reachable")
    assert run.stderr.count("\n") == 1
    tenant = home / "kubernetes" / "beijing"
    for private_dir in (home, home / "kubernetes", tenant, tenant / "keys", tenant / "secrets", home / "pulumi"):
        assert stat.S_IMODE(private_dir.stat().st_mode) == 0o700, private_dir
    for secret in (home / "pulumi-passphrase", tenant / "secrets" / "database-password",
                   *(tenant / "keys").iterdir()):
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600, secret
    password = (tenant / "secrets" / "database-password").read_text()
    # a second run keeps the same password and passphrase: the stack's secrets stay readable
    passphrase = (home / "pulumi-passphrase").read_text()
    fsp("up", "beijing", "--target", "kubernetes", "--postgres", ADMIN_DSN, ok=False)
    assert (tenant / "secrets" / "database-password").read_text() == password
    assert (home / "pulumi-passphrase").read_text() == passphrase
