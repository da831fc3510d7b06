"""Staff sign in to the workbench of a Keycloak tenant: authorization code with PKCE at the realm (the double over
real HTTP on loopback, or a real Keycloak), the access token checked by the registry's own verifier, and the
development sign-in refused."""
import shutil
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from infra.ensure.realm import apply_realm
from infra.ensure.realm_users import add_user
from portal.site import create_site
from registry.config import Settings
from registry.db_types import utcnow
from registry.sessions.models import StaffSession
from staff_signing import BASE, csrf_of

PASSWORD = "Chosen-Pass-2024"


@pytest.fixture
def realm_site(request, tmp_path, keycloak, tenant):
    """Beijing's site trusting its realm, which has a user wang.fang (reviewer) who can sign in."""
    apply_realm(keycloak.url, keycloak.admin_username, keycloak.admin_password, tenant)
    admin = keycloak.admin(tenant.realm_name)
    user, _ = add_user(admin, tenant, "wang.fang", roles={"reviewer"})
    admin.set_user_password(user.id, PASSWORD, temporary=False)
    admin.update_user(user.id, {"requiredActions": []})  # stands in for enrolling TOTP in a browser
    shutil.copyfile(request.getfixturevalue("_sqlite_template"), tmp_path / "registry.db")
    settings = Settings(tenant_code=tenant.code, tenant_slug=tenant.slug, database_url=f"sqlite:///{tmp_path}/registry.db",
                        keys_dir=tmp_path / "keys", token_issuer=f"{keycloak.url}/realms/{tenant.realm_name}")
    site = create_site(settings)
    yield site
    site.state.ctx.engine.dispose()


def _realm_login(location: str, username: str, password: str) -> httpx.Response:
    """What a person does on the realm's login page: fill in the form it shows and submit it."""
    page = httpx.get(location)
    assert page.status_code == 200, page.text
    fields = dict(parse_qs(urlsplit(location).query, keep_blank_values=True))
    form = {k: v[0] for k, v in fields.items()} | {"username": username, "password": password}
    return httpx.post(location.split("?")[0], data=form)


def test_staff_sign_in_with_the_realm_uses_pkce_and_lands_in_the_workbench(keycloak, realm_site):
    with TestClient(realm_site, base_url=BASE) as browser:
        page = browser.get("/workbench/sign-in")
        assert "通过统一身份认证登录" in page.text and "开发环境登录" not in page.text
        start = browser.get("/workbench/sign-in/start?next=/workbench/", follow_redirects=False)
        assert start.status_code == 303
        location = start.headers["location"]
        query = parse_qs(urlsplit(location).query)
        assert location.startswith(keycloak.url) and query["code_challenge_method"] == ["S256"]
        assert query["client_id"] == ["registry-portal"] and query["redirect_uri"] == [f"{BASE}/workbench/callback"]
        back = _realm_login(location, "wang.fang", PASSWORD)
        assert back.status_code == 302, back.text
        callback = urlsplit(back.headers["location"])
        landed = browser.get(f"{callback.path}?{callback.query}", follow_redirects=False)
        assert landed.status_code == 303 and landed.headers["location"] == "/workbench/"
        home = browser.get("/workbench/")
        assert home.status_code == 200 and "待审核案件" in home.text and "wang.fang" in home.text
        assert "开发环境" not in home.text


def test_a_code_taken_to_another_browser_signs_nobody_in(keycloak, realm_site):
    with TestClient(realm_site, base_url=BASE) as victim, TestClient(realm_site, base_url=BASE) as attacker:
        location = victim.get("/workbench/sign-in/start", follow_redirects=False).headers["location"]
        back = urlsplit(_realm_login(location, "wang.fang", PASSWORD).headers["location"])
        attacker.get("/workbench/sign-in/start", follow_redirects=False)  # a pending sign-in of its own
        stolen = attacker.get(f"{back.path}?{back.query}", follow_redirects=False)
        assert stolen.status_code == 400 and "登录未成功" in stolen.text
        assert attacker.get("/workbench/", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_realm_session_too(keycloak, realm_site):
    with TestClient(realm_site, base_url=BASE) as browser:
        location = browser.get("/workbench/sign-in/start", follow_redirects=False).headers["location"]
        back = urlsplit(_realm_login(location, "wang.fang", PASSWORD).headers["location"])
        browser.get(f"{back.path}?{back.query}", follow_redirects=False)
        home = browser.get("/workbench/")
        out = browser.post("/workbench/sign-out", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
        assert out.status_code == 303 and "/protocol/openid-connect/logout?" in out.headers["location"]
        assert "post_logout_redirect_uri" in out.headers["location"]
        assert browser.get("/workbench/", follow_redirects=False).status_code == 303


def test_development_sign_in_is_refused_on_a_keycloak_tenant(realm_site):
    with TestClient(realm_site, base_url=BASE) as browser:
        answer = browser.post("/workbench/sign-in", data={"username": "mallory", "role": "auditor",
                                                          "csrf_token": "x"})
        assert answer.status_code == 403 and "开发环境登录已停用" in answer.text
        assert browser.get("/workbench/", follow_redirects=False).status_code == 303


def _signed_in(browser: TestClient) -> None:
    location = browser.get("/workbench/sign-in/start", follow_redirects=False).headers["location"]
    back = urlsplit(_realm_login(location, "wang.fang", PASSWORD).headers["location"])
    assert browser.get(f"{back.path}?{back.query}", follow_redirects=False).status_code == 303


def test_a_token_about_to_expire_is_renewed_at_the_realm_before_the_registry_is_called(realm_site):
    with TestClient(realm_site, base_url=BASE) as browser:
        _signed_in(browser)
        with Session(realm_site.state.ctx.engine) as db:
            before = db.exec(select(StaffSession).where(StaffSession.state == "active")).one().access_token
        start = utcnow()
        realm_site.state.clock = lambda: start + timedelta(minutes=10)  # past the realm's 5-minute access token
        assert browser.get("/workbench/cases").status_code == 200
        with Session(realm_site.state.ctx.engine) as db:
            row = db.exec(select(StaffSession).where(StaffSession.state == "active")).one()
        assert row.access_token != before and row.token_expires_at > start + timedelta(minutes=4)


def test_the_realm_refuses_a_code_without_its_pkce_verifier(keycloak, realm_site):
    with TestClient(realm_site, base_url=BASE) as browser:
        location = browser.get("/workbench/sign-in/start", follow_redirects=False).headers["location"]
        back = parse_qs(urlsplit(_realm_login(location, "wang.fang", PASSWORD).headers["location"]).query)
        token_endpoint = location.split("?")[0].replace("/auth", "/token")
        answer = httpx.post(token_endpoint, data={"grant_type": "authorization_code", "code": back["code"][0],
                                                  "client_id": "registry-portal", "code_verifier": "guessed" * 8,
                                                  "redirect_uri": f"{BASE}/workbench/callback"})
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
