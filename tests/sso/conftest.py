"""The Keycloak the SSO tests talk to: the double over real HTTP on loopback, or a real server.

Set FSP_TEST_KEYCLOAK_URL (with FSP_TEST_KEYCLOAK_ADMIN_USER and FSP_TEST_KEYCLOAK_ADMIN_PASSWORD, a master-realm
administrator) to run the same tests against a real Keycloak; each test works in its own realm and deletes it
afterwards. Tests that need the double's hooks (schema rejection, key rotation, forging tokens with a realm's key)
are marked `double_only` and are skipped against a real server.
"""
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from keycloak import KeycloakAdmin

from kc_double.runner import BackgroundServer
from kc_double.server import KeycloakDouble
from tenants import TenantSpec, load_catalog


@dataclass
class KeycloakServer:
    url: str
    admin_username: str
    admin_password: str
    double: KeycloakDouble | None  # None when the tests run against a real Keycloak

    def admin(self, realm: str) -> KeycloakAdmin:
        return KeycloakAdmin(server_url=self.url, username=self.admin_username, password=self.admin_password,
                             realm_name=realm, user_realm_name="master")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "double_only: needs the Keycloak double's test hooks")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("FSP_TEST_KEYCLOAK_URL"):
        skip = pytest.mark.skip(reason="uses the Keycloak double's hooks; FSP_TEST_KEYCLOAK_URL points at a real one")
        for item in items:
            if "double_only" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def _served_double() -> Iterator[tuple[KeycloakDouble, str]]:
    double = KeycloakDouble()
    with BackgroundServer(double.app) as url:
        yield double, url


@pytest.fixture
def keycloak(request: pytest.FixtureRequest) -> Iterator[KeycloakServer]:
    """A Keycloak reachable over HTTP: real when FSP_TEST_KEYCLOAK_URL is set, else the double (reset after)."""
    url = os.environ.get("FSP_TEST_KEYCLOAK_URL")
    if url:
        user, password = (os.environ.get("FSP_TEST_KEYCLOAK_ADMIN_USER"),
                          os.environ.get("FSP_TEST_KEYCLOAK_ADMIN_PASSWORD"))
        if not user or not password:
            pytest.fail("FSP_TEST_KEYCLOAK_URL needs FSP_TEST_KEYCLOAK_ADMIN_USER and FSP_TEST_KEYCLOAK_ADMIN_PASSWORD",
                        pytrace=False)
        yield KeycloakServer(url.rstrip("/"), user, password, None)
        return
    double, served_url = request.getfixturevalue("_served_double")
    try:
        yield KeycloakServer(served_url, double.admin_username, double.admin_password, double)
    finally:
        double.reset()


@pytest.fixture(scope="session")
def catalog():
    return load_catalog()


@pytest.fixture
def tenant_for(catalog, keycloak: KeycloakServer) -> Iterator:
    """`tenant_for("tianjin")`: the catalog's tenant on Keycloak, in a fresh realm of its own, deleted afterwards."""
    made: list[TenantSpec] = []

    def make(slug: str) -> TenantSpec:
        spec = catalog.resolve(slug)
        sso = {"provider": "keycloak", "keycloak_url": keycloak.url, "realm": f"fsp-t-{slug}-{secrets.token_hex(4)}"}
        made.append(TenantSpec.model_validate({**spec.model_dump(mode="json"), "sso": sso}))
        return made[-1]

    yield make
    if keycloak.double is None:  # the double forgets everything by itself
        admin = keycloak.admin("master")
        existing = {realm["realm"] for realm in admin.get_realms()}
        for spec in made:
            if spec.realm_name in existing:
                admin.delete_realm(spec.realm_name)


@pytest.fixture
def tenant(tenant_for) -> TenantSpec:
    """Beijing on Keycloak, in a fresh realm."""
    return tenant_for("beijing")
