"""Citizens' identity: the realm brokers the province's government-service identity (an external OIDC provider)
as code, granting the citizen role and nothing else; citizens sign in to 我的办事 through the realm (kc_idp_hint),
and neither staff at 我的办事 nor citizens at the workbench are let in."""
import json
import shutil
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from infra.ensure import ProvisioningError
from infra.ensure.realm import GOV_ID_SECRET_ENV, apply_realm, desired_realm, identity_provider_status
from infra.ensure.realm_users import add_user
from kc_double.schema import AdminApi
from portal.site import create_site
from registry.config import Settings
from staff_signing import BASE, csrf_of
from tenants import TenantSpec

SECRET = "gov-id-client-secret-7f3a"
PASSWORD = "Chosen-Pass-2024"
GOV_ID = {"issuer": "https://gov-id.example.gov.cn/oidc", "client_id": "fsp-beijing",
          "authorization_url": "https://gov-id.example.gov.cn/oidc/authorize",
          "token_url": "https://gov-id.example.gov.cn/oidc/token", "jwks_url": "https://gov-id.example.gov.cn/oidc/jwks",
          "display_name": "北京市政务服务统一身份认证"}


def with_government_identity(spec: TenantSpec) -> TenantSpec:
    data = spec.model_dump(mode="json")
    return TenantSpec.model_validate({**data, "sso": {**data["sso"], "government_identity": GOV_ID}})


@pytest.fixture
def gov_tenant(tenant) -> TenantSpec:
    return with_government_identity(tenant)


def test_the_realm_brokers_the_government_identity_granting_only_the_citizen_role(gov_tenant):
    realm = desired_realm(gov_tenant)
    [provider] = realm["identityProviders"]
    assert provider["alias"] == "gov-id" and provider["providerId"] == "oidc"
    assert provider["firstBrokerLoginFlowAlias"] == "first broker login"
    assert provider["config"]["clientId"] == "fsp-beijing" and provider["config"]["pkceEnabled"] == "true"
    assert "clientSecret" not in provider["config"], "the secret is never part of the realm as code"
    [mapper] = realm["identityProviderMappers"]
    assert mapper["identityProviderMapper"] == "oidc-hardcoded-role-idp-mapper"
    assert mapper["config"]["role"] == "citizen"
    assert "citizen" in {role["name"] for role in realm["roles"]["realm"]}
    portal = next(client for client in realm["clients"] if client["clientId"] == "registry-portal")
    assert {"/my/callback", f"/{gov_tenant.slug}/my/callback"} <= set(portal["redirectUris"])
    assert AdminApi().validate({"$ref": "#/components/schemas/RealmRepresentation"}, realm, "realm") == []


def test_a_government_identity_needs_keycloak(catalog):
    spec = catalog.resolve("beijing").model_dump(mode="json")
    with pytest.raises(ValueError, match="only with provider keycloak"):
        TenantSpec.model_validate({**spec, "sso": {**spec["sso"], "government_identity": GOV_ID}})


def test_apply_creates_the_provider_and_its_mapper_once_with_the_secret_only_at_keycloak(keycloak, gov_tenant):
    first = dict(apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, gov_tenant,
                             identity_secret=SECRET))
    assert first["identity-provider gov-id"] == "created"
    assert first["identity-provider-mapper citizen role"] == "created"
    admin = keycloak.admin(gov_tenant.realm_name)
    shown = admin.get_idp("gov-id")
    assert shown["config"]["clientId"] == "fsp-beijing" and SECRET not in json.dumps(shown)
    [mapper] = admin.get_idp_mappers("gov-id")
    assert mapper["config"]["role"] == "citizen"
    if keycloak.double is not None:
        assert keycloak.double.realms[gov_tenant.realm_name].identity_providers["gov-id"]["config"][
            "clientSecret"] == SECRET
        assert keycloak.double.rejected == [], "every body conforms to the admin API"
    again = dict(apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, gov_tenant,
                             identity_secret=SECRET))
    assert again["identity-provider gov-id"] == again["identity-provider-mapper citizen role"] == "unchanged"


def test_drift_of_the_provider_is_put_back_keeping_the_secret(keycloak, gov_tenant):
    apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, gov_tenant, identity_secret=SECRET)
    admin = keycloak.admin(gov_tenant.realm_name)
    changed = admin.get_idp("gov-id")
    admin.update_idp("gov-id", {**changed, "config": {**changed["config"], "clientId": "someone-else"}})
    repaired = dict(apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, gov_tenant,
                                identity_secret=SECRET))
    assert repaired["identity-provider gov-id"] == "updated"
    assert admin.get_idp("gov-id")["config"]["clientId"] == "fsp-beijing"


def test_without_its_secret_nothing_is_applied_and_the_error_names_the_variable(keycloak, gov_tenant):
    with pytest.raises(ProvisioningError, match=GOV_ID_SECRET_ENV):
        apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, gov_tenant)
    assert gov_tenant.realm_name not in {realm["realm"] for realm in keycloak.admin("master").get_realms()}


def test_a_tenant_without_a_government_identity_gets_none_and_says_so(keycloak, tenant):
    results = dict(apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, tenant))
    assert not [name for name in results if name.startswith("identity-provider")]
    assert keycloak.admin(tenant.realm_name).get_idps() == []
    assert identity_provider_status(tenant) == "none configured: citizens cannot sign in"
    assert identity_provider_status(with_government_identity(tenant)).startswith("gov-id (")


# --- signing in through the realm ----------------------------------------------------------------------------------

@pytest.fixture
def citizen_site(request, tmp_path, keycloak, gov_tenant):
    """Beijing's site on its realm; the realm has a citizen (as the government identity's first sign-in makes
    one: the mapper's citizen role) and a reviewer."""
    apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, gov_tenant, identity_secret=SECRET)
    admin = keycloak.admin(gov_tenant.realm_name)
    citizen_id = admin.create_user({"username": "gov-id.zhang-san", "enabled": True, "firstName": "三",
                                    "lastName": "张"})
    admin.assign_realm_roles(citizen_id, [admin.get_realm_role("citizen")])
    reviewer, _ = add_user(admin, gov_tenant, "wang.fang", roles={"reviewer"})
    for user_id in (citizen_id, reviewer.id):
        admin.set_user_password(user_id, PASSWORD, temporary=False)
        admin.update_user(user_id, {"requiredActions": []})
    shutil.copyfile(request.getfixturevalue("_sqlite_template"), tmp_path / "registry.db")
    settings = Settings(tenant_code=gov_tenant.code, tenant_slug=gov_tenant.slug,
                        database_url=f"sqlite:///{tmp_path}/registry.db", keys_dir=tmp_path / "keys",
                        token_issuer=f"{keycloak.url}/realms/{gov_tenant.realm_name}", citizen_identity_provider="gov-id")
    site = create_site(settings)
    yield site
    site.state.ctx.engine.dispose()


def _realm_login(location: str, username: str) -> httpx.Response:
    page = httpx.get(location)
    assert page.status_code == 200, page.text
    fields = {k: v[0] for k, v in parse_qs(urlsplit(location).query, keep_blank_values=True).items()}
    return httpx.post(location.split("?")[0], data=fields | {"username": username, "password": PASSWORD})


def _through_the_realm(browser: TestClient, area: str, username: str):
    start = browser.get(f"/{area}/sign-in/start", follow_redirects=False)
    assert start.status_code == 303
    back = urlsplit(_realm_login(start.headers["location"], username).headers["location"])
    return start.headers["location"], browser.get(f"{back.path}?{back.query}", follow_redirects=False)


def test_a_citizen_signs_in_through_the_government_identity_and_out(keycloak, citizen_site):
    with TestClient(citizen_site, base_url=BASE) as browser:
        page = browser.get("/my/sign-in")
        assert "使用政务服务平台账号登录" in page.text and "开发环境" not in page.text
        location, landed = _through_the_realm(browser, "my", "gov-id.zhang-san")
        query = parse_qs(urlsplit(location).query)
        assert query["kc_idp_hint"] == ["gov-id"] and query["code_challenge_method"] == ["S256"]
        assert query["redirect_uri"] == [f"{BASE}/my/callback"]
        assert landed.status_code == 303 and landed.headers["location"] == "/my/"
        home = browser.get("/my/")
        assert home.status_code == 200 and "gov-id.zhang-san" in home.text
        out = browser.post("/my/sign-out", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
        assert "/protocol/openid-connect/logout?" in out.headers["location"]
        assert browser.get("/my/", follow_redirects=False).status_code == 303


def test_staff_cannot_sign_in_as_citizens_nor_citizens_as_staff(keycloak, citizen_site):
    with TestClient(citizen_site, base_url=BASE) as browser:
        _, refused = _through_the_realm(browser, "my", "wang.fang")
        assert refused.status_code == 400 and "登录未完成" in refused.text
        assert browser.get("/my/", follow_redirects=False).status_code == 303
    with TestClient(citizen_site, base_url=BASE) as browser:
        _, refused = _through_the_realm(browser, "workbench", "gov-id.zhang-san")
        assert refused.status_code == 400
        assert browser.get("/workbench/", follow_redirects=False).status_code == 303


def test_the_development_sign_in_is_refused_on_a_keycloak_tenant(citizen_site):
    with TestClient(citizen_site, base_url=BASE) as browser:
        answer = browser.post("/my/sign-in", data={"username": "mallory", "csrf_token": "x"})
        assert answer.status_code == 403 and "不提供模拟登录" in answer.text
        assert browser.get("/my/", follow_redirects=False).status_code == 303
