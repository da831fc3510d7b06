"""Realm as code: the representation meets grade 3, applying converges idempotently, drift is put back."""
import re

import pytest
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakError, KeycloakPostError

from infra.ensure import ProvisioningError
from infra.ensure.realm import apply_realm, desired_realm
from infra.ensure.realm_users import add_user
from kc_double.schema import AdminApi

THREE_ADMINS = {"system-admin", "security-admin", "audit-admin"}


def test_representation_meets_grade_3(catalog):
    realm = desired_realm(catalog.resolve("beijing"))
    policy = dict(re.findall(r"(\w+)(?:\((\d+)\))?", realm["passwordPolicy"]))
    assert int(policy["length"]) >= 8 and "notUsername" in policy
    assert sum(name in policy for name in ("upperCase", "lowerCase", "digits", "specialChars")) >= 3
    assert int(policy["passwordHistory"]) >= 5 and 0 < int(policy["forceExpiredPasswordChange"]) <= 90
    assert realm["bruteForceProtected"] and not realm["permanentLockout"] and realm["failureFactor"] <= 5
    # Keycloak's first lock lasts waitIncrementSeconds, capped by maxFailureWaitSeconds
    assert min(realm["waitIncrementSeconds"], realm["maxFailureWaitSeconds"]) >= 900
    assert 0 < realm["ssoSessionIdleTimeout"] <= 900
    assert realm["eventsEnabled"] and realm["eventsExpiration"] >= 180 * 86400
    assert realm["adminEventsEnabled"] and realm["adminEventsDetailsEnabled"]
    assert not realm["registrationAllowed"] and "users" not in realm  # no default or shared accounts
    assert {a["alias"] for a in realm["requiredActions"] if a["enabled"]} >= {"CONFIGURE_TOTP"}


def test_roles_and_clients(catalog):
    province, ministry = desired_realm(catalog.resolve("beijing")), desired_realm(catalog.ministry)
    names = {role["name"] for role in province["roles"]["realm"]}
    assert names == THREE_ADMINS | {"provincial-admin", "registrar", "reviewer", "auditor", "citizen"}
    assert {role["name"] for role in ministry["roles"]["realm"]} == THREE_ADMINS | {"ministry-operator", "auditor"}
    clients = {client["clientId"]: client for client in province["clients"]}
    assert not clients["registry-api"]["publicClient"] and clients["registry-api"]["serviceAccountsEnabled"]
    assert clients["registry-portal"]["publicClient"]
    assert clients["registry-portal"]["attributes"]["pkce.code.challenge.method"] == "S256"
    assert clients["fsp-cli"]["publicClient"] and not clients["fsp-cli"]["serviceAccountsEnabled"]
    for client in clients.values():
        mappers = {m["protocolMapper"]: m["config"] for m in client["protocolMappers"]}
        assert mappers["oidc-audience-mapper"]["included.client.audience"] == "registry-api"
        assert mappers["oidc-usermodel-attribute-mapper"]["claim.name"] == "institution_id"


def test_representation_uses_keycloak_field_names(catalog):
    api = AdminApi()
    assert api.validate({"$ref": "#/components/schemas/RealmRepresentation"},
                        desired_realm(catalog.resolve("shandong")), "realm") == []


def test_apply_twice_then_repair_drift(keycloak, tenant):
    first = apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, tenant)
    outcomes = dict(first)
    assert outcomes["realm"] == "created"
    assert {outcomes[f"role {r}"] for r in THREE_ADMINS} == {"created"}
    assert {outcomes[f"client {c}"] for c in ("registry-api", "registry-portal", "fsp-cli")} == {"created"}

    second = apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, tenant)
    assert [name for name, _ in second] == [name for name, _ in first]
    assert {outcome for _, outcome in second} == {"unchanged"}

    admin = keycloak.admin(tenant.realm_name)
    admin.update_realm(tenant.realm_name, {"realm": tenant.realm_name, "ssoSessionIdleTimeout": 36000,
                                           "bruteForceProtected": False})
    portal = admin.get_client_id("registry-portal")
    admin.update_client(portal, {**admin.get_client(portal), "directAccessGrantsEnabled": True})
    mapper = next(m for m in admin.get_mappers_from_client(portal) if m["protocolMapper"] == "oidc-audience-mapper")
    admin.update_client_mapper(portal, mapper["id"], {**mapper, "config": {**mapper["config"],
                                                                         "included.client.audience": "account"}})
    admin.update_required_action("CONFIGURE_TOTP", {"alias": "CONFIGURE_TOTP", "name": "Configure OTP",
                                                    "providerId": "CONFIGURE_TOTP", "enabled": False})
    profile = admin.get_realm_users_profile()
    admin.update_realm_users_profile({**profile, "attributes": [
        {**a, "permissions": {"view": ["admin", "user"], "edit": ["admin", "user"]}}
        if a["name"] == "institution_id" else a for a in profile["attributes"]]})  # a user could rebind themselves

    third = dict(apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, tenant))
    assert (third["realm"], third["client registry-portal"], third["required-action CONFIGURE_TOTP"]) == (
        "updated", "updated", "updated")
    assert third["client registry-api"] == "unchanged" and third["user-profile institution_id"] == "updated"
    realm = admin.get_realm(tenant.realm_name)
    assert (realm["ssoSessionIdleTimeout"], realm["bruteForceProtected"]) == (900, True)
    assert admin.get_client(portal)["directAccessGrantsEnabled"] is False
    assert next(a for a in admin.get_realm_users_profile()["attributes"]
                if a["name"] == "institution_id")["permissions"]["edit"] == ["admin"]
    assert {m["config"]["included.client.audience"] for m in admin.get_mappers_from_client(portal)
            if m["protocolMapper"] == "oidc-audience-mapper"} == {"registry-api"}
    assert {name: outcome for name, outcome in apply_realm(
        keycloak.url, keycloak.admin_username, keycloak.admin_password, tenant)}.keys() == third.keys()


def test_apply_never_deletes_users(keycloak, tenant):
    apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, tenant)
    admin = keycloak.admin(tenant.realm_name)
    add_user(admin, tenant, "wang.fang", roles={"reviewer"})
    admin.create_realm_role({"name": "local-extra", "description": "made by hand"})
    apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, tenant)
    assert admin.get_user_id("wang.fang") is not None
    assert "local-extra" in {role["name"] for role in admin.get_realm_roles()}


def test_brute_force_lock_holds_against_the_right_password(keycloak, tenant):
    apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, tenant)
    admin = keycloak.admin(tenant.realm_name)
    add_user(admin, tenant, "li.lei", roles={"reviewer"})
    admin.set_user_password(admin.get_user_id("li.lei"), "Right-Pass-2024", temporary=False)
    oidc = KeycloakOpenID(server_url=keycloak.url, realm_name=tenant.realm_name, client_id="fsp-cli")
    for _ in range(5):
        with pytest.raises(KeycloakError):
            oidc.token("li.lei", "Wrong-Pass-2024")
    with pytest.raises(KeycloakError):
        oidc.token("li.lei", "Right-Pass-2024")


def test_wrong_admin_credentials_and_unreachable_server_are_clear_errors(keycloak, tenant):
    with pytest.raises(ProvisioningError, match="refused the admin credentials"):
        apply_realm(keycloak.url, keycloak.admin_username, "not-the-password", tenant)
    with pytest.raises(ProvisioningError, match="cannot reach Keycloak at http://127.0.0.1:9"):
        apply_realm("http://127.0.0.1:9", "someone", "secret", tenant)


@pytest.mark.double_only
def test_double_rejects_a_body_the_admin_api_does_not_define(keycloak, tenant):
    admin = keycloak.admin("master")
    with pytest.raises(KeycloakPostError) as refused:
        admin.create_realm({"realm": tenant.realm_name, "enabled": True, "bruteForceProtection": True})
    assert refused.value.response_code == 400
    assert b"bruteForceProtection: unrecognized field" in refused.value.response_body
    with pytest.raises(KeycloakPostError):
        admin.create_realm({"realm": tenant.realm_name, "failureFactor": "5"})
    assert tenant.realm_name not in {realm["realm"] for realm in admin.get_realms()}
    assert [problems for _, _, problems in keycloak.double.rejected] == [
        ["body.bruteForceProtection: unrecognized field"], ["body.failureFactor: expected an integer, got str"]]


@pytest.mark.double_only
def test_everything_apply_sends_conforms_to_the_admin_api(keycloak, tenant, catalog):
    apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, tenant)
    admin = keycloak.admin(tenant.realm_name)
    add_user(admin, tenant, "zhao.min", roles={"registrar"}, institution_id=__import__("uuid").uuid4())
    assert keycloak.double.rejected == []
