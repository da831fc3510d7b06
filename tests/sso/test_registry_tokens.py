"""The registry of a Keycloak tenant: tokens from its realm accepted, everything else refused and audited.

The registry app runs in-process; its verifier fetches the realm's JWKS over real HTTP from Keycloak (the double,
or a real server when FSP_TEST_KEYCLOAK_URL is set).
"""
import shutil
import time
import uuid

import jwt
import pytest
from fastapi.testclient import TestClient
from keycloak import KeycloakOpenID
from sqlmodel import Session

from assertions import assert_problem, last_audit
from factories import institution_payload
from infra.ensure.realm import apply_realm
from infra.ensure.realm_users import add_user
from kc_double.state import SigningKey
from registry.app import create_app
from registry.config import Settings

PASSWORD = "Chosen-Pass-2024"


def realm_admin(keycloak, spec):
    apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, spec)
    return keycloak.admin(spec.realm_name)


def person(keycloak, spec, admin, username, roles, institution_id=None) -> str:
    """A user of the realm who has signed in once: their access token from the fsp-cli client."""
    user, _ = add_user(admin, spec, username, roles=set(roles), institution_id=institution_id)
    admin.set_user_password(user.id, PASSWORD, temporary=False)
    # stands in for enrolling TOTP, which takes a browser and an authenticator app
    admin.update_user(user.id, {"requiredActions": []})
    oidc = KeycloakOpenID(server_url=keycloak.url, realm_name=spec.realm_name, client_id="fsp-cli")
    return oidc.token(username, PASSWORD)["access_token"]


@pytest.fixture
def make_registry(request, tmp_path, keycloak):
    """`make_registry(spec, refetch_seconds, database_url)`: the tenant's registry trusting the spec's realm.

    Its database is a migrated SQLite copy unless a URL is given (the end-to-end test runs on both backends).
    """
    apps = []

    def make(spec, refetch_seconds: float = 0.0, database_url: str | None = None):
        if database_url is None:
            database_url = f"sqlite:///{tmp_path / 'registry.db'}"
            shutil.copyfile(request.getfixturevalue("_sqlite_template"), tmp_path / "registry.db")
        settings = Settings(tenant_code=spec.code, tenant_slug=spec.slug, database_url=database_url,
                            keys_dir=tmp_path / "keys", token_issuer=f"{keycloak.url}/realms/{spec.realm_name}",
                            token_jwks_refetch_seconds=refetch_seconds)
        app = create_app(settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.state.ctx.engine.dispose()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_end_to_end_realm_user_token_registry_audit(keycloak, tenant, make_registry, database_url):
    admin = realm_admin(keycloak, tenant)
    token = person(keycloak, tenant, admin, "lin.hua", ["provincial-admin"])
    app = make_registry(tenant, database_url=database_url)
    with TestClient(app) as client, Session(app.state.ctx.engine) as session:
        created = client.post("/api/v1/institutions", json=institution_payload(type="funeral_home"),
                              headers=bearer(token))
        assert created.status_code == 201, created.text
        subject = jwt.decode(token, options={"verify_signature": False})["sub"]
        entry = last_audit(session)
        assert (entry.actor, entry.result, entry.object_id) == (subject, "ok", created.json()["id"])

        institution = uuid.UUID(created.json()["id"])
        registrar = person(keycloak, tenant, admin, "qian.yu", ["registrar"], institution_id=institution)
        assert client.get("/api/v1/cases", headers=bearer(registrar)).status_code == 200
        assert client.get("/api/v1/audit", headers=bearer(registrar)).status_code == 403
        assert last_audit(session).actor == jwt.decode(registrar, options={"verify_signature": False})["sub"]


def test_service_account_without_roles_is_forbidden_and_audited(keycloak, tenant, make_registry):
    admin = realm_admin(keycloak, tenant)
    secret = admin.get_client_secrets(admin.get_client_id("registry-api"))["value"]
    oidc = KeycloakOpenID(server_url=keycloak.url, realm_name=tenant.realm_name, client_id="registry-api",
                          client_secret_key=secret)
    token = oidc.token(grant_type="client_credentials")["access_token"]
    app = make_registry(tenant)
    with TestClient(app) as client, Session(app.state.ctx.engine) as session:
        assert_problem(client.get("/api/v1/outbox", headers=bearer(token)), 403, "authorization", "permission")
        assert last_audit(session).actor == jwt.decode(token, options={"verify_signature": False})["sub"]


def test_a_token_from_another_tenants_realm_is_refused(keycloak, tenant, tenant_for, make_registry):
    tianjin = tenant_for("tianjin")
    other_token = person(keycloak, tianjin, realm_admin(keycloak, tianjin), "xu.bo", ["provincial-admin"])
    realm_admin(keycloak, tenant)
    app = make_registry(tenant)
    with TestClient(app) as client, Session(app.state.ctx.engine) as session:
        response = client.post("/api/v1/institutions", json=institution_payload(), headers=bearer(other_token))
        assert_problem(response, 401, "authorization", "bearer_token")
        entry = last_audit(session)
        assert (entry.actor, entry.result) == ("anonymous", "refused") and '"status": 401' in entry.detail


@pytest.mark.double_only
@pytest.mark.parametrize("case", ["expired", "unpublished_key", "wrong_issuer", "wrong_audience", "no_audience",
                                  "id_token"])
def test_bad_realm_tokens_get_401_and_an_audit_entry(keycloak, tenant, make_registry, case):
    realm_admin(keycloak, tenant)
    issuer, now = f"{keycloak.url}/realms/{tenant.realm_name}", int(time.time())
    claims = {"iss": issuer, "aud": "registry-api", "sub": str(uuid.uuid4()), "iat": now, "exp": now + 300,
              "realm_access": {"roles": ["provincial-admin"]}}
    changes = {"expired": {"iat": now - 7200, "exp": now - 3600}, "wrong_issuer": {"iss": f"{issuer}-other"},
               "wrong_audience": {"aud": "account"}, "unpublished_key": {}, "no_audience": {"aud": None},
               "id_token": {"typ": "ID"}}[case]
    claims = {k: v for k, v in {**claims, **changes}.items() if v is not None}
    key = SigningKey.new() if case == "unpublished_key" else None
    token = keycloak.double.sign(tenant.realm_name, claims, key=key)
    app = make_registry(tenant)
    with TestClient(app) as client, Session(app.state.ctx.engine) as session:
        response = client.post("/api/v1/institutions", json=institution_payload(), headers=bearer(token))
        assert_problem(response, 401, "authorization", "bearer_token")
        entry = last_audit(session)
        assert entry.result == "refused" and '"status": 401' in entry.detail


@pytest.mark.double_only
def test_key_rotation_is_followed(keycloak, tenant, make_registry):
    admin = realm_admin(keycloak, tenant)
    old_token = person(keycloak, tenant, admin, "tang.yi", ["auditor"])
    app = make_registry(tenant, refetch_seconds=0)
    with TestClient(app) as client:
        assert client.get("/api/v1/audit", headers=bearer(old_token)).status_code == 200
        assert client.get("/api/v1/audit", headers=bearer(old_token)).status_code == 200
        assert keycloak.double.certs_served == 1  # cached after the first fetch
        keycloak.double.rotate_keys(tenant.realm_name)
        new_token = KeycloakOpenID(server_url=keycloak.url, realm_name=tenant.realm_name,
                                   client_id="fsp-cli").token("tang.yi", PASSWORD)["access_token"]
        assert jwt.get_unverified_header(new_token)["kid"] != jwt.get_unverified_header(old_token)["kid"]
        assert client.get("/api/v1/audit", headers=bearer(new_token)).status_code == 200
        assert client.get("/api/v1/audit", headers=bearer(old_token)).status_code == 200  # old key still published
        assert keycloak.double.certs_served == 2


@pytest.mark.double_only
def test_a_token_accepted_before_is_refused_once_its_key_is_withdrawn(keycloak, tenant, make_registry):
    admin = realm_admin(keycloak, tenant)
    old_token = person(keycloak, tenant, admin, "song.li", ["auditor"])
    app = make_registry(tenant, refetch_seconds=0)
    with TestClient(app) as client:
        assert client.get("/api/v1/audit", headers=bearer(old_token)).status_code == 200  # verified and remembered
        keycloak.double.rotate_keys(tenant.realm_name)
        keycloak.double.realms[tenant.realm_name].keys.pop(0)  # the old key is no longer published
        new_token = KeycloakOpenID(server_url=keycloak.url, realm_name=tenant.realm_name,
                                   client_id="fsp-cli").token("song.li", PASSWORD)["access_token"]
        assert client.get("/api/v1/audit", headers=bearer(new_token)).status_code == 200  # refetches the keys
        assert_problem(client.get("/api/v1/audit", headers=bearer(old_token)), 401, "authorization", "bearer_token")


@pytest.mark.double_only
def test_unknown_key_ids_do_not_flood_the_issuer(keycloak, tenant, make_registry):
    admin = realm_admin(keycloak, tenant)
    token = person(keycloak, tenant, admin, "yang.fan", ["auditor"])
    app = make_registry(tenant, refetch_seconds=600)
    with TestClient(app) as client:
        assert client.get("/api/v1/audit", headers=bearer(token)).status_code == 200
        claims = jwt.decode(token, options={"verify_signature": False})
        for _ in range(3):
            forged = keycloak.double.sign(tenant.realm_name, claims, key=SigningKey.new())
            assert client.get("/api/v1/audit", headers=bearer(forged)).status_code == 401
    assert keycloak.double.certs_served == 1


@pytest.mark.double_only
def test_a_realm_token_combining_separated_administrators_is_refused(keycloak, tenant, make_registry):
    realm_admin(keycloak, tenant)
    now = int(time.time())
    token = keycloak.double.sign(tenant.realm_name, {
        "iss": f"{keycloak.url}/realms/{tenant.realm_name}", "aud": "registry-api", "sub": "two-hats", "iat": now,
        "exp": now + 300, "realm_access": {"roles": ["system-admin", "audit-admin"]}})
    app = make_registry(tenant)
    with TestClient(app) as client:
        response = client.get("/api/v1/audit", headers=bearer(token))
        assert_problem(response, 403, "authorization", "separation_of_duties")


def test_without_the_realms_keys_every_token_is_refused(keycloak, tenant, tenant_for, make_registry):
    token = person(keycloak, tenant, realm_admin(keycloak, tenant), "song.jia", ["auditor"])
    app = make_registry(tenant_for("hebei"))  # its realm was never applied: no JWKS to fetch
    with TestClient(app) as client:
        response = client.get("/api/v1/audit", headers={**bearer(token), "Accept-Language": "en"})
        assert_problem(response, 401, "authorization", "bearer_token")
        assert "cannot fetch the issuer's signing keys" in response.text


def test_a_realm_tenant_publishes_no_keys_of_its_own(keycloak, tenant, make_registry):
    app = make_registry(tenant)
    with TestClient(app) as client:
        response = client.get("/.well-known/jwks.json")
    assert response.status_code == 404
    assert "realm" in response.json()["errors"][0]["message"]
