"""People in a realm: personal accounts, 三员分立, bound registrars, TOTP for administrators, no deletes."""
import uuid

import jwt
import pytest
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakError

from infra.ensure import ProvisioningError
from infra.ensure.realm import apply_realm
from infra.ensure.realm_users import add_user, disable_user, find_user, list_users, set_roles


@pytest.fixture
def admin(keycloak, tenant):
    apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, tenant)
    return keycloak.admin(tenant.realm_name)


def sign_in(keycloak, tenant, username: str, password: str) -> dict:
    oidc = KeycloakOpenID(server_url=keycloak.url, realm_name=tenant.realm_name, client_id="fsp-cli")
    return oidc.token(username, password)


def test_registrar_token_carries_roles_institution_and_audience(keycloak, tenant, admin):
    institution = uuid.uuid4()
    user, temporary = add_user(admin, tenant, "Zhang.Wei", roles={"registrar"}, institution_id=institution,
                               email="zhang.wei@example.org")
    assert (user.username, user.roles, user.institution_id) == ("zhang.wei", ("registrar",), str(institution))
    assert user.required_actions == ("UPDATE_PASSWORD",) and temporary
    with pytest.raises(KeycloakError, match="not fully set up"):
        sign_in(keycloak, tenant, "zhang.wei", temporary)  # the temporary password must be changed first
    admin.set_user_password(user.id, "Chosen-Pass-2024", temporary=False)
    claims = jwt.decode(sign_in(keycloak, tenant, "zhang.wei", "Chosen-Pass-2024")["access_token"],
                        options={"verify_signature": False})
    assert "registry-api" in ([claims["aud"]] if isinstance(claims["aud"], str) else claims["aud"])
    assert "registrar" in claims["realm_access"]["roles"] and claims["institution_id"] == str(institution)
    assert claims["iss"] == f"{keycloak.url}/realms/{tenant.realm_name}" and claims["sub"] == user.id


def test_adding_an_existing_user_changes_nothing(admin, tenant):
    first, password = add_user(admin, tenant, "chen.jie", roles={"reviewer"})
    again, no_password = add_user(admin, tenant, "chen.jie", roles={"auditor"})
    assert password and no_password is None and again == first
    assert [u.username for u in list_users(admin)] == ["chen.jie"]


def test_administrators_must_enrol_totp(admin, tenant):
    user, _ = add_user(admin, tenant, "sun.li", roles={"security-admin"})
    assert "CONFIGURE_TOTP" in user.required_actions
    worker, _ = add_user(admin, tenant, "he.ping", roles={"reviewer"})
    assert "CONFIGURE_TOTP" not in worker.required_actions
    promoted, outcome = set_roles(admin, tenant, "he.ping", grant={"provincial-admin"}, revoke=set())
    assert outcome == "updated" and "CONFIGURE_TOTP" in promoted.required_actions
    assert promoted.roles == ("provincial-admin", "reviewer")


@pytest.mark.parametrize("held, granted", [("system-admin", "security-admin"), ("security-admin", "audit-admin"),
                                           ("audit-admin", "system-admin")])
def test_three_administrators_never_on_one_person(admin, tenant, held, granted):
    before, _ = add_user(admin, tenant, "ma.jun", roles={held})
    with pytest.raises(ProvisioningError, match="三员分立.*never be held by one person"):
        set_roles(admin, tenant, "ma.jun", grant={granted}, revoke=set())
    assert find_user(admin, "ma.jun") == before  # nothing changed, not even the required actions
    with pytest.raises(ProvisioningError, match="三员分立"):
        add_user(admin, tenant, "li.na", roles={held, granted})
    assert admin.get_user_id("li.na") is None


@pytest.mark.parametrize("held, granted", [("auditor", "system-admin"), ("security-admin", "auditor")])
def test_the_auditor_is_never_a_system_or_security_administrator(admin, tenant, held, granted):
    before, _ = add_user(admin, tenant, "he.ping", roles={held})
    with pytest.raises(ProvisioningError, match="三员分立.*never be held by one person"):
        set_roles(admin, tenant, "he.ping", grant={granted}, revoke=set())
    assert find_user(admin, "he.ping") == before
    with pytest.raises(ProvisioningError, match="三员分立"):
        add_user(admin, tenant, "xu.lan", roles={held, granted})
    assert admin.get_user_id("xu.lan") is None


def test_swapping_one_administrator_role_for_another_is_allowed(admin, tenant):
    add_user(admin, tenant, "gao.yan", roles={"system-admin"})
    user, outcome = set_roles(admin, tenant, "gao.yan", grant={"audit-admin"}, revoke={"system-admin"})
    assert (outcome, user.roles) == ("updated", ("audit-admin",))
    assert set_roles(admin, tenant, "gao.yan", grant={"audit-admin"}, revoke=set())[1] == "unchanged"


@pytest.mark.parametrize("username, roles, institution, message", [
    ("admin", {"reviewer"}, None, "names no one"),
    ("shared", {"auditor"}, None, "names no one"),
    ("x", {"auditor"}, None, "3-64 characters"),
    ("liu.yang", {"registrar"}, None, "bound to one institution"),
    ("liu.yang", {"ministry-operator"}, None, "unknown role ministry-operator"),
])
def test_refused_accounts_leave_nothing(admin, tenant, username, roles, institution, message):
    with pytest.raises(ProvisioningError, match=message):
        add_user(admin, tenant, username, roles=roles, institution_id=institution)
    assert list_users(admin) == []


def test_disabled_user_cannot_sign_in_and_is_kept(keycloak, tenant, admin):
    user, _ = add_user(admin, tenant, "zhou.xin", roles={"auditor"})
    admin.set_user_password(user.id, "Chosen-Pass-2024", temporary=False)
    assert sign_in(keycloak, tenant, "zhou.xin", "Chosen-Pass-2024")["access_token"]
    disabled, outcome = disable_user(admin, "zhou.xin")
    assert (outcome, disabled.enabled) == ("updated", False)
    assert disable_user(admin, "zhou.xin")[1] == "unchanged"
    with pytest.raises(KeycloakError):
        sign_in(keycloak, tenant, "zhou.xin", "Chosen-Pass-2024")
    assert [u.username for u in list_users(admin)] == ["zhou.xin"]
    with pytest.raises(ProvisioningError, match="no user 'nobody'"):
        disable_user(admin, "nobody")


@pytest.mark.double_only
def test_a_registrar_is_refused_where_the_profile_does_not_declare_the_binding(admin, tenant):
    profile = admin.get_realm_users_profile()
    admin.update_realm_users_profile({**profile, "attributes": [
        a for a in profile["attributes"] if a["name"] != "institution_id"]})
    with pytest.raises(ProvisioningError, match="does not declare the user attribute institution_id"):
        add_user(admin, tenant, "guo.qing", roles={"registrar"}, institution_id=uuid.uuid4())
    assert list_users(admin) == []
    admin.create_user({"username": "guo.qing", "enabled": True, "attributes": {"institution_id": [str(uuid.uuid4())]}})
    assert find_user(admin, "guo.qing").institution_id is None  # what Keycloak 24+ does with undeclared attributes
