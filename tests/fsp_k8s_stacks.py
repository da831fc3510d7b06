"""Builders for the Kubernetes stack tests: pinned images, stack inputs with recognisable secrets, plans."""
import base64
from functools import cache

from infra.cluster import ClusterSettings
from infra.plan import plan
from infra.stacks.inputs import StackInputs
from infra.stacks.platform import program
from provisioning_cli.targets.kubernetes import monitoring_files
from tenants import TenantSpec, load_catalog

IMAGES = {
    "registry_image": "registry.example.cn/fsp/registry@sha256:" + "1" * 64,
    "prometheus_image": "quay.io/prometheus/prometheus@sha256:" + "2" * 64,
    "alertmanager_image": "quay.io/prometheus/alertmanager@sha256:" + "3" * 64,
    "backup_image": "docker.io/library/postgres@sha256:" + "4" * 64,
}
ADMIN_PASSWORD = "AdminPw-never-in-clear"
DATABASE_PASSWORD = "TenantPw-never-in-clear"
KEYCLOAK_PASSWORD = "KeycloakPw-never-in-clear"
KEY_BYTES = b"FieldKey-never-in-clear"
PUBLIC_PEM = "-----BEGIN PUBLIC KEY-----\nZXhjaGFuZ2U=\n-----END PUBLIC KEY-----\n"
SECRET_VALUES = (ADMIN_PASSWORD, DATABASE_PASSWORD, KEYCLOAK_PASSWORD, KEY_BYTES.decode(),
                 base64.b64encode(KEY_BYTES).decode())


def cluster(**overrides) -> ClusterSettings:
    return ClusterSettings(**{**IMAGES, **overrides})


def catalog():
    return load_catalog()


def stack_inputs(spec: TenantSpec, **overrides) -> StackInputs:
    values = dict(
        spec=spec, cluster=cluster(),
        postgres_admin_url=f"postgresql+psycopg://fsp_admin:{ADMIN_PASSWORD}@10.1.2.3:5432/postgres",
        database_password=DATABASE_PASSWORD,
        key_files={"field-sm4.key": KEY_BYTES, "exchange-ed25519.pub.pem": PUBLIC_PEM.encode()},
        keycloak_admin_username="kc-admin", keycloak_admin_password=KEYCLOAK_PASSWORD,
        peers_dir="/srv/fsp/exchange-peers", provinces=tuple(catalog().provinces),
        peers={"beijing": PUBLIC_PEM}, **monitoring_files(spec, catalog()))
    return StackInputs(**{**values, **overrides})


@cache
def planned(slug: str) -> dict:
    """The plan of a catalog tenant's stack (computed once per test session)."""
    spec = catalog().resolve(slug)
    return plan(program(stack_inputs(spec)), stack=slug)


def of_type(result: dict, type_: str) -> list[dict]:
    return [r for r in result["resources"] if r["type"] == type_]


def named(result: dict, name: str) -> dict:
    found = [r for r in result["resources"] if r["name"] == name]
    assert len(found) == 1, f"{name}: {[r['name'] for r in result['resources']]}"
    return found[0]
